using System.Collections.Concurrent;
using MovieDb.Caching;
using StackExchange.Redis;

namespace WebApp.Auth;

/// <summary>
/// Sessions signed out, so that a copy of their cookie stops working at once — on every instance and
/// after restarts: the mark is kept in the cache until the last copy of the cookie could have expired.
/// The cookie is self-contained, and sign-out also revokes its refresh token at the gateway; the mark
/// is what makes a copy useless even when that revocation could not be made.
/// </summary>
/// <remarks>
/// While Redis is unreachable, a mark made here holds on this instance only, and a session signed out
/// elsewhere is still accepted here until its access token expires (15 minutes at most) and the gateway
/// refuses its revoked refresh token — sign-out then tells the person it could not make sure.
/// </remarks>
internal sealed class SignedOutSessions(SharedCache cache, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _local = new(StringComparer.Ordinal);

    /// <summary>
    /// Marks the session signed out until <paramref name="until"/>; true when every instance will refuse
    /// it (the mark is in the cache, or there is no cache and so only this one instance).
    /// </summary>
    public async Task<bool> AddAsync(string sessionId, DateTimeOffset until)
    {
        var now = time.GetUtcNow();
        foreach (var (id, expiry) in _local)
        {
            if (expiry < now)
            {
                _local.TryRemove(id, out _);
            }
        }

        _local[sessionId] = until;
        if (!cache.IsConfigured)
        {
            return true;
        }

        var lifetime = until - now > TimeSpan.Zero ? until - now : TimeSpan.FromSeconds(1);
        return await cache.RunAsync("signed-out sessions", db => db.StringSetAsync(Key(sessionId), "1", lifetime), () => ValueTask.FromResult(false));
    }

    /// <summary>True when the session was signed out (here, or on any instance while the cache answers).</summary>
    public async ValueTask<bool> ContainsAsync(string sessionId) =>
        _local.ContainsKey(sessionId)
        || await cache.RunAsync("signed-out sessions", db => db.KeyExistsAsync(Key(sessionId)), () => ValueTask.FromResult(false));

    private static RedisKey Key(string sessionId) => "signed-out:" + sessionId;
}
