using Gateway.Limits;
using Gateway.Settings;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MovieDb.Caching;
using MovieDb.Tests.Infrastructure;
using StackExchange.Redis;

namespace MovieDb.Tests.Integration.RateLimits;

/// <summary>The gateway's limiters whose counts are in Redis, as the partitioned rate limiter keeps one per client address or user.</summary>
public sealed class SharedLimitersTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // The partitioned limiter drops a partition whose limiter says it has been idle for over 10 s;
    // one that never says so stays in memory for ever, one per address the gateway has seen.
    [Fact]
    public async Task A_limiter_kept_in_Redis_says_how_long_it_has_been_idle_so_its_partition_can_be_dropped()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(servers.Redis.Address);
        var cache = new SharedCache(connection, Options.Create(new SharedCacheOptions { KeyPrefix = RedisServer.NewKeyPrefix() }), TimeProvider.System, NullLogger<SharedCache>.Instance);
        var limiters = new SharedLimiters(cache);
        using var bucket = limiters.TokenBucket("test", "203.0.113.7", new RateLimitingOptions.BucketLimit { TokenLimit = 10, TokensPerSecond = 1 });
        using var window = limiters.FixedWindow("test", "user-1", new RateLimitingOptions.WindowLimit { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) });

        foreach (var limiter in new[] { bucket, window })
        {
            using var lease = await limiter.AcquireAsync(1, Ct);
            Assert.True(lease.IsAcquired);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(300), Ct);

        Assert.All(new[] { bucket, window }, limiter => Assert.True(limiter.IdleDuration >= TimeSpan.FromMilliseconds(250), $"idle for {limiter.IdleDuration}"));
    }

    [Fact]
    public async Task Several_buckets_are_taken_from_together_or_not_at_all_and_a_refusal_says_when_to_come_back()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(servers.Redis.Address);
        var cache = new SharedCache(connection, Options.Create(new SharedCacheOptions { KeyPrefix = RedisServer.NewKeyPrefix() }), TimeProvider.System, NullLogger<SharedCache>.Instance);
        using var limiters = new SharedLimiters(cache);
        var small = new RateLimitingOptions.BucketLimit { TokenLimit = 2, TokensPerSecond = 1 };
        var large = new RateLimitingOptions.BucketLimit { TokenLimit = 50, TokensPerSecond = 1 };
        using var both = limiters.TokenBuckets([new Bucket("address", "198.51.100.1", small), new Bucket("api", "user:7", large)]);
        using var userOnly = limiters.TokenBucket("api", "user:7", large);

        Assert.True((await both.AcquireAsync(1, Ct)).IsAcquired);
        Assert.True((await both.AcquireAsync(1, Ct)).IsAcquired);
        using var refused = await both.AcquireAsync(1, Ct);
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(System.Threading.RateLimiting.MetadataName.RetryAfter, out var retryAfter));
        Assert.InRange(retryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1));
        for (var i = 0; i < 10; i++)
        {
            using var again = await both.AcquireAsync(1, Ct);
        }

        // The address's bucket is empty; the user's gave nothing for the refused requests: 48 of its 50
        // are left (a token or two more if seconds passed), where taking from it anyway would leave 37.
        var left = 0;
        while (left < 60 && (await userOnly.AcquireAsync(1, Ct)).IsAcquired)
        {
            left++;
        }

        Assert.InRange(left, 48, 50);
    }

    [Fact]
    public async Task Two_instances_draw_on_one_bucket_in_Redis()
    {
        var prefix = RedisServer.NewKeyPrefix();
        await using var first = await ConnectionMultiplexer.ConnectAsync(servers.Redis.Address);
        await using var second = await ConnectionMultiplexer.ConnectAsync(servers.Redis.Address);
        SharedLimiters Instance(IConnectionMultiplexer connection) =>
            new(new SharedCache(connection, Options.Create(new SharedCacheOptions { KeyPrefix = prefix }), TimeProvider.System, NullLogger<SharedCache>.Instance));
        using var one = Instance(first);
        using var other = Instance(second);
        var limit = new RateLimitingOptions.BucketLimit { TokenLimit = 4, TokensPerSecond = 1 };
        using var a = one.TokenBucket("address", "203.0.113.9", limit);
        using var b = other.TokenBucket("address", "203.0.113.9", limit);

        var taken = 0;
        for (var i = 0; i < 6; i++)
        {
            taken += (await (i % 2 == 0 ? a : b).AcquireAsync(1, Ct)).IsAcquired ? 1 : 0;
        }

        Assert.InRange(taken, 4, 5);
    }
}
