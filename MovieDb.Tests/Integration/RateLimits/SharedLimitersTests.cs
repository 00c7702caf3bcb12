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
}
