using System.Threading.RateLimiting;
using Gateway.Settings;
using MovieDb.Caching;
using RedisRateLimiting;

namespace Gateway.Limits;

/// <summary>
/// Makes the limiter of one partition of one policy: shared by every gateway instance through the
/// cache — token buckets by <see cref="SharedBuckets"/> (several in one call), fixed windows by
/// RedisRateLimiting (<see cref="SharedRateLimiter"/>) — or, with no cache configured, in this process only.
/// </summary>
public sealed class SharedLimiters(SharedCache cache) : IDisposable
{
    private readonly SharedBuckets _buckets = new(cache);
    private readonly LocalBuckets _local = new();

    /// <summary>Whether the counts are in Redis (shared by every instance), not in this process.</summary>
    public bool IsShared => cache.IsConfigured;

    public RateLimiter FixedWindow(string policy, string partition, RateLimitingOptions.WindowLimit limit)
    {
        RateLimiter Local() => new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = limit.PermitLimit, Window = limit.Window, QueueLimit = 0 });
        return cache.IsConfigured
            ? new SharedRateLimiter(
                new RedisFixedWindowRateLimiter<string>(Key(policy, partition), new RedisFixedWindowRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => cache.Connection!,
                    PermitLimit = limit.PermitLimit,
                    Window = limit.Window,
                }),
                Local,
                cache,
                $"the {policy} rate limit")
            : Local();
    }

    public RateLimiter TokenBucket(string policy, string partition, RateLimitingOptions.BucketLimit limit) =>
        cache.IsConfigured
            ? TokenBuckets([new Bucket(policy, partition, limit)])
            : new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = limit.TokenLimit,
                TokensPerPeriod = limit.TokensPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });

    /// <summary>
    /// A limiter that lets a request through only when each of <paramref name="buckets"/> has a token,
    /// taking one from each: one call to Redis for all of them. Only with a cache configured.
    /// </summary>
    internal RateLimiter TokenBuckets(IReadOnlyList<Bucket> buckets) =>
        new BucketsRateLimiter(buckets, _buckets, _local, cache, $"the {string.Join(" and ", buckets.Select(b => b.Policy))} rate limit");

    public void Dispose() => _local.Dispose();

    // RedisRateLimiting names its keys rl:<kind>:{<partition>}, outside the cache's prefix: the prefix
    // and the policy go into the partition, so that policies (and systems sharing one Redis) never
    // share a count. A Redis user of the gateway needs the keys rl:* as well as <prefix>*.
    private string Key(string policy, string partition) => $"{cache.KeyPrefix}{policy}:{partition}";
}
