using System.Collections.Concurrent;
using System.Threading.RateLimiting;

namespace Gateway.Limits;

/// <summary>
/// Token buckets in this process, one per policy and partition: what <see cref="BucketsRateLimiter"/>
/// counts with while Redis cannot be reached (each instance then counts alone). Partitions nobody
/// used for a while are dropped by the framework's partitioned limiter.
/// </summary>
internal sealed class LocalBuckets : IDisposable
{
    private readonly ConcurrentDictionary<string, PartitionedRateLimiter<string>> _policies = new(StringComparer.Ordinal);

    public ValueTask<RateLimitLease> AcquireAsync(Bucket bucket, CancellationToken cancellationToken) =>
        _policies.GetOrAdd(bucket.Policy, _ => PartitionedRateLimiter.Create<string, string>(partition =>
                RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = bucket.Limit.TokenLimit,
                    TokensPerPeriod = bucket.Limit.TokensPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                })))
            .AcquireAsync(bucket.Partition, 1, cancellationToken);

    public void Dispose()
    {
        foreach (var limiter in _policies.Values)
        {
            limiter.Dispose();
        }
    }
}
