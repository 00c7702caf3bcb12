using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using MovieDb.Caching;
using StackExchange.Redis;

namespace WebApp.Auth;

/// <summary>
/// Makes one refresh per refresh token, on every web app instance together. A refresh token works
/// once and reusing a spent one revokes the whole session (DESIGN.md), while a browser often sends
/// several requests at once with the same cookie (a page and an enhanced navigation, two tabs) — and
/// with no session affinity they land on different instances. The first to ask takes a short lock in
/// the cache, refreshes, and leaves the outcome there (encrypted) for a minute; the others wait for it
/// and use it, instead of racing each other into a revoked session.
/// </summary>
/// <remarks>
/// RFC 9700 (§4.14.2) allows either this or a grace period in which the authorization server accepts
/// a just-rotated token again; MovieDb keeps the strict reuse detection at the gateway and coordinates
/// here. While Redis is unreachable, each instance coordinates only its own requests (the race across
/// instances is back for that time only). A refresh that found the gateway or the broker away leaves
/// no outcome: the next request tries again.
/// </remarks>
internal sealed class RefreshCoordinator(SharedCache cache, IDataProtectionProvider protection, TimeProvider time)
{
    private static readonly TimeSpan Keep = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan LockFor = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WaitAtMost = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    private readonly ConcurrentDictionary<string, Entry> _refreshes = new(StringComparer.Ordinal);
    private readonly IDataProtector _protector = protection.CreateProtector("MovieDb.WebApp.RefreshOutcome.v1");
    private readonly string _instance = Guid.NewGuid().ToString("N");

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

        // Within this process: one task per refresh token, whatever the cache does.
        var entry = _refreshes.GetOrAdd(refreshToken, _ => new Entry(now, new Lazy<Task<ApiResult<TokenPair>>>(() => SharedRefreshAsync(refreshToken, refresh))));
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

    private async Task<ApiResult<TokenPair>> SharedRefreshAsync(string refreshToken, Func<Task<ApiResult<TokenPair>>> refresh)
    {
        var id = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)));
        RedisKey outcomeKey = $"refresh:{id}:outcome", lockKey = $"refresh:{id}:lock";
        var started = time.GetTimestamp();
        while (true)
        {
            var (step, shared) = await cache.RunAsync(
                "token refreshes",
                async db =>
                {
                    if (await ReadAsync(db, outcomeKey) is { } done)
                    {
                        return (Step.Shared, done);
                    }

                    if (!await db.LockTakeAsync(lockKey, _instance, LockFor))
                    {
                        return (Step.Wait, null);
                    }

                    // Another instance may have finished between the read and the lock: its outcome wins.
                    if (await ReadAsync(db, outcomeKey) is { } finished)
                    {
                        await db.LockReleaseAsync(lockKey, _instance);
                        return (Step.Shared, finished);
                    }

                    return (Step.Locked, (ApiResult<TokenPair>?)null);
                },
                () => ValueTask.FromResult((Step.Alone, (ApiResult<TokenPair>?)null)));

            switch (step)
            {
                case Step.Shared:
                    return shared!;
                case Step.Alone:
                    return await refresh();
                case Step.Locked:
                    var result = await refresh();
                    await ShareAsync(outcomeKey, lockKey, result);
                    return result;
            }

            if (time.GetElapsedTime(started) > WaitAtMost)
            {
                // The instance that holds the lock is slow or gone: the session is kept and the next
                // request looks again (its outcome, or the lock's expiry).
                return ApiResult.Failed<TokenPair>(ApiProblem.Unreachable);
            }

            await Task.Delay(Poll, time);
        }
    }

    /// <summary>
    /// Leaves a final outcome for the other instances — a new pair, or a refusal of the token (400,
    /// 401) — never one that a retry could change (the gateway away, too many requests, an error), and
    /// gives the lock back if it is still this instance's.
    /// </summary>
    private async Task ShareAsync(RedisKey outcomeKey, RedisKey lockKey, ApiResult<TokenPair> result) =>
        await cache.RunAsync(
            "token refreshes",
            async db =>
            {
                if (result is { IsOk: true, Value: { } tokens })
                {
                    await db.StringSetAsync(outcomeKey, _protector.Protect(JsonSerializer.Serialize(new StoredOutcome(result.Status, tokens))), Keep);
                }
                else if (result.Status is StatusCodes.Status400BadRequest or StatusCodes.Status401Unauthorized)
                {
                    await db.StringSetAsync(outcomeKey, _protector.Protect(JsonSerializer.Serialize(new StoredOutcome(result.Status, null))), Keep);
                }

                return await db.LockReleaseAsync(lockKey, _instance);
            },
            () => ValueTask.FromResult(false));

    private async Task<ApiResult<TokenPair>?> ReadAsync(IDatabase db, RedisKey outcomeKey) =>
        await db.StringGetAsync(outcomeKey) is { HasValue: true } stored ? Read(stored) : null;

    private ApiResult<TokenPair>? Read(RedisValue stored)
    {
        try
        {
            var outcome = JsonSerializer.Deserialize<StoredOutcome>(_protector.Unprotect(stored.ToString()));
            return outcome switch
            {
                { Tokens: { } tokens } => new ApiResult<TokenPair>(outcome.Status, tokens, null),
                { } refused => ApiResult.Failed<TokenPair>(new ApiProblem(refused.Status, "Session ended", "The refresh token was refused.", new Dictionary<string, string[]>(), null)),
                null => null,
            };
        }
        catch (Exception ex) when (ex is CryptographicException or JsonException or FormatException)
        {
            return null;
        }
    }

    private sealed record Entry(DateTimeOffset Started, Lazy<Task<ApiResult<TokenPair>>> Refresh);

    private sealed record StoredOutcome(int Status, TokenPair? Tokens);

    private enum Step
    {
        Shared,
        Locked,
        Wait,
        Alone,
    }
}
