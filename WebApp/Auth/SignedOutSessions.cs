using System.Collections.Concurrent;

namespace WebApp.Auth;

/// <summary>
/// Sessions signed out here, so that a copy of their cookie stops working at once. The cookie is
/// self-contained; what makes an old copy useless for good is the gateway: sign-out revoked its
/// refresh token, so once its access token expires (15 minutes at most) it cannot be renewed.
/// This list only has to cover that window, which is why memory is enough.
/// </summary>
internal sealed class SignedOutSessions(TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);

    public void Add(string sessionId, DateTimeOffset accessTokenExpiry)
    {
        var now = time.GetUtcNow();
        foreach (var (id, until) in _sessions)
        {
            if (until < now)
            {
                _sessions.TryRemove(id, out _);
            }
        }

        _sessions[sessionId] = accessTokenExpiry;
    }

    public bool Contains(string sessionId) => _sessions.ContainsKey(sessionId);
}
