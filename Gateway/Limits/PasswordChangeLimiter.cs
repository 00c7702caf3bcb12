using System.Threading.RateLimiting;
using Gateway.Settings;
using Microsoft.Extensions.Options;

namespace Gateway.Limits;

/// <summary>
/// <c>RateLimiting:PasswordChanges</c>: how often one user may have the user service check or hash a
/// password outside sign-in, counted per user by every gateway instance together. A password check
/// costs the user service tens of milliseconds; without this, one account that knows its own password
/// could keep it busy with a stream of changes (the per-user API limit allows 100 a second), and
/// everyone's sign-ins and registrations would wait behind them.
/// </summary>
public sealed class PasswordChangeLimiter : IAsyncDisposable
{
    private const string Policy = "password-changes";

    private readonly PartitionedRateLimiter<string> _limiter;

    public PasswordChangeLimiter(SharedLimiters limiters, IOptions<RateLimitingOptions> options)
    {
        var limit = options.Value.PasswordChanges;
        _limiter = PartitionedRateLimiter.Create<string, string>(userId => RateLimitPartition.Get(userId, key => limiters.FixedWindow(Policy, key, limit)));
    }

    /// <summary>Counts one password change of <paramref name="userId"/>: null when it may go ahead, otherwise how long to wait.</summary>
    public async ValueTask<TimeSpan?> TryAcquireAsync(string userId, CancellationToken cancellationToken)
    {
        using var lease = await _limiter.AcquireAsync(userId, 1, cancellationToken);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
    }

    public ValueTask DisposeAsync() => _limiter.DisposeAsync();
}
