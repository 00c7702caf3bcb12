using System.Threading.RateLimiting;
using MovieDb.Caching;
using RedisRateLimiting;

namespace Gateway.Limits;

/// <summary>
/// A rate limiter whose counts live in Redis (RedisRateLimiting's scripts), so that every gateway
/// instance draws on the same allowance; while Redis is unreachable, a limiter of the same settings in
/// this process takes over (each instance then counts alone: a client gets each instance's allowance,
/// never an unlimited one), and no request fails or waits because of it.
/// </summary>
internal sealed class SharedRateLimiter(RateLimiter shared, Func<RateLimiter> createLocal, SharedCache cache, string what) : RateLimiter
{
    private static readonly RateLimitLease NotAttempted = new NoLease();

    // Made only when Redis fails: a local token bucket replenishes on a timer of its own.
    private readonly Lazy<RateLimiter> _local = new(createLocal);

    public override TimeSpan? IdleDuration =>
        !_local.IsValueCreated ? shared.IdleDuration
        : shared.IdleDuration is { } sharedIdle && _local.Value.IdleDuration is { } localIdle ? (sharedIdle < localIdle ? sharedIdle : localIdle) : null;

    public override RateLimiterStatistics? GetStatistics() => _local.IsValueCreated ? _local.Value.GetStatistics() : null;

    // Redis is asynchronous only: a failed attempt sends the rate-limiting middleware on to AcquireAsync.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => NotAttempted;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (cache.ShouldTry)
        {
            try
            {
                return new Lease(await shared.AcquireAsync(permitCount, cancellationToken));
            }
            catch (Exception ex) when (SharedCache.IsUnavailable(ex))
            {
                cache.ReportUnavailable(ex, what);
            }
        }

        return await _local.Value.AcquireAsync(permitCount, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            shared.Dispose();
            if (_local.IsValueCreated)
            {
                _local.Value.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await shared.DisposeAsync();
        if (_local.IsValueCreated)
        {
            await _local.Value.DisposeAsync();
        }
        await base.DisposeAsyncCore();
    }

    /// <summary>
    /// The shared limiter's lease (disposing it gives back a concurrency permit), saying when to retry
    /// in the framework's own terms (<see cref="MetadataName.RetryAfter"/>) as well as RedisRateLimiting's.
    /// </summary>
    private sealed class Lease(RateLimitLease inner) : RateLimitLease
    {
        public override bool IsAcquired => inner.IsAcquired;

        public override IEnumerable<string> MetadataNames => inner.MetadataNames.Append(MetadataName.RetryAfter.Name);

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = inner.TryGetMetadata(RateLimitMetadataName.RetryAfter, out var seconds) ? TimeSpan.FromSeconds(Math.Max(1, seconds)) : null;
                return metadata is not null;
            }

            return inner.TryGetMetadata(metadataName, out metadata);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class NoLease : RateLimitLease
    {
        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
