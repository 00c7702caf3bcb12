using System.Threading.RateLimiting;
using Gateway.Settings;
using MovieDb.ServiceDefaults;
using RedisRateLimiting;

namespace Gateway.Limits;

/// <summary>
/// Makes the limiter of one partition of one policy: shared by every gateway instance through the
/// cache (<see cref="SharedRateLimiter"/>), or — with no cache configured — in this process only.
/// </summary>
public sealed partial class SharedLimiters(SharedCache cache, TimeProvider time, ILogger<SharedLimiters> logger)
{
    private static readonly TimeSpan WarnEvery = TimeSpan.FromSeconds(30);
    private long _lastWarning = long.MinValue;

    public RateLimiter FixedWindow(string policy, string partition, RateLimitingOptions.WindowLimit limit)
    {
        var local = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = limit.PermitLimit, Window = limit.Window, QueueLimit = 0 });
        return cache.IsConfigured
            ? new SharedRateLimiter(
                new RedisFixedWindowRateLimiter<string>(Key(policy, partition), new RedisFixedWindowRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => cache.Connection!,
                    PermitLimit = limit.PermitLimit,
                    Window = limit.Window,
                }),
                local,
                Unavailable)
            : local;
    }

    public RateLimiter TokenBucket(string policy, string partition, RateLimitingOptions.BucketLimit limit)
    {
        var local = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
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
                local,
                Unavailable)
            : local;
    }

    // RedisRateLimiting names its keys rl:<kind>:{<partition>}: the cache's prefix and the policy go
    // into the partition, so that policies (and systems sharing one Redis) never share a count.
    private string Key(string policy, string partition) => $"{cache.KeyPrefix}{policy}:{partition}";

    private void Unavailable(Exception exception)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastWarning);
        if ((last == long.MinValue || time.GetElapsedTime(last, now) > WarnEvery) && Interlocked.CompareExchange(ref _lastWarning, now, last) == last)
        {
            LogUnavailable(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unreachable: rate limits are counted by this instance alone until it answers again (said at most every 30 s)")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
