using System.Threading.RateLimiting;
using Gateway.Settings;
using MovieDb.Caching;
using RedisRateLimiting;

namespace Gateway.Limits;

/// <summary>
/// Makes the limiter of one partition of one policy: shared by every gateway instance through the
/// cache (<see cref="SharedRateLimiter"/>), or — with no cache configured — in this process only.
/// </summary>
public sealed class SharedLimiters(SharedCache cache)
{
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

    public RateLimiter TokenBucket(string policy, string partition, RateLimitingOptions.BucketLimit limit)
    {
        RateLimiter Local() => new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.TokenLimit,
            TokensPerPeriod = limit.TokensPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        });
        return cache.IsConfigured
            ? new SharedRateLimiter(
                new RedisTokenBucketRateLimiter<string>(Key(policy, partition), new RedisTokenBucketRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => cache.Connection!,
                    TokenLimit = limit.TokenLimit,
                    TokensPerPeriod = limit.TokensPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                }),
                Local,
                cache,
                $"the {policy} rate limit")
            : Local();
    }

    // RedisRateLimiting names its keys rl:<kind>:{<partition>}, outside the cache's prefix: the prefix
    // and the policy go into the partition, so that policies (and systems sharing one Redis) never
    // share a count. A Redis user of the gateway needs the keys rl:* as well as <prefix>*.
    private string Key(string policy, string partition) => $"{cache.KeyPrefix}{policy}:{partition}";
}
