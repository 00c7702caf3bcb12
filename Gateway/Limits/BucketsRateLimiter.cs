using System.Diagnostics;
using System.Threading.RateLimiting;
using MovieDb.Caching;

namespace Gateway.Limits;

/// <summary>
/// A rate limiter that takes one token from each of several buckets at once — in Redis, shared by
/// every gateway instance, in one call (<see cref="SharedBuckets"/>); while Redis is unreachable, from
/// buckets of the same settings in this process (<see cref="LocalBuckets"/>), so that no request fails
/// or waits because of it.
/// </summary>
internal sealed class BucketsRateLimiter(IReadOnlyList<Bucket> buckets, SharedBuckets shared, LocalBuckets local, SharedCache cache, string what) : RateLimiter
{
    private long _lastUsed = Stopwatch.GetTimestamp();

    // Lets the partitioned limiter drop this partition once nobody used it for a while.
    public override TimeSpan? IdleDuration => Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastUsed));

    public override RateLimiterStatistics? GetStatistics() => null;

    // Redis is asynchronous only: a failed attempt sends the rate-limiting middleware on to AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.NotAttempted;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        // A request takes one token of each bucket; asking for none only asks whether one could go.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, 1);
        Interlocked.Exchange(ref _lastUsed, Stopwatch.GetTimestamp());
        if (cache.ShouldTry)
        {
            try
            {
                return await shared.TakeAsync(buckets) is { } wait ? Lease.Refused(wait) : Lease.Acquired;
            }
            catch (Exception ex) when (SharedCache.IsUnavailable(ex))
            {
                cache.ReportUnavailable(ex, what);
            }
        }

        // Not all or none here: a token taken from one bucket before another refused stays taken (this
        // instance alone counts until Redis is back, and errs on the strict side).
        foreach (var bucket in buckets)
        {
            var lease = await local.AcquireAsync(bucket, cancellationToken);
            if (!lease.IsAcquired)
            {
                return lease;
            }

            lease.Dispose();
        }

        return Lease.Acquired;
    }

    /// <summary>A token bucket's answer: taken, or refused with when to try again (<see cref="MetadataName.RetryAfter"/>).</summary>
    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);

        public static readonly Lease NotAttempted = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public static Lease Refused(TimeSpan retryAfter) => new(false, retryAfter);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
