using System.Collections.Concurrent;

namespace WebApp.Auth;

/// <summary>
/// Makes one refresh per refresh token. A refresh token works once and reusing a spent one revokes
/// the whole session (DESIGN.md), while a browser often sends several requests at once with the
/// same cookie (a page and an enhanced navigation, two tabs): they all get the outcome of the first
/// refresh instead of racing each other into a revoked session. Outcomes are kept for a short while
/// only — long enough for the requests already in flight with the old cookie.
/// </summary>
/// <remarks>Per process: with several web app instances, keep a browser on one (session affinity) or share this state.</remarks>
internal sealed class RefreshCoordinator(TimeProvider time)
{
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Entry> _refreshes = new(StringComparer.Ordinal);

    public Task<ApiResult<TokenPair>> RefreshAsync(string refreshToken, Func<Task<ApiResult<TokenPair>>> refresh)
    {
        var now = time.GetUtcNow();
        foreach (var (key, old) in _refreshes)
        {
            if (now - old.Started > Keep)
            {
                _refreshes.TryRemove(key, out _);
            }
        }

        var entry = _refreshes.GetOrAdd(refreshToken, _ => new Entry(now, new Lazy<Task<ApiResult<TokenPair>>>(refresh)));
        var outcome = entry.Refresh.Value;

        // An outcome that may change on a retry (the gateway or the broker was away) is not kept.
        _ = outcome.ContinueWith(
            t =>
            {
                if (t.IsFaulted || t.IsCanceled || t.Result.Problem is { IsUnavailable: true })
                {
                    _refreshes.TryRemove(new KeyValuePair<string, Entry>(refreshToken, entry));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return outcome;
    }

    private sealed record Entry(DateTimeOffset Started, Lazy<Task<ApiResult<TokenPair>>> Refresh);
}
