using System.Collections.Concurrent;
using System.Security.Claims;
using Gateway.Auth;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Proxy;

/// <summary>
/// Short-lived tokens in which the gateway states who the caller is — id, name and current roles —
/// signed with a key only the gateway and the movie service hold. Sent as the bearer token of each
/// proxied request, so the movie service believes no identity a request merely claims. A token is
/// reused for half its lifetime per identity, so signing costs nothing per request.
/// </summary>
public sealed class IdentityTokens
{
    private const int MaxCached = 10_000;

    private readonly GatewayIdentityOptions _options;
    private readonly SigningCredentials _credentials;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset RenewAt)> _cache = new(StringComparer.Ordinal);

    public IdentityTokens(IOptions<GatewayIdentityOptions> options, SigningKeyring keys, TimeProvider time)
    {
        _options = options.Value;
        _credentials = new SigningCredentials(keys.Identity, SecurityAlgorithms.HmacSha256);
        _time = time;
    }

    public string For(ClaimsPrincipal user)
    {
        var id = user.UserId();
        var name = user.Identity?.Name ?? string.Empty;
        var roles = user.FindAll(TokenClaims.Role).Select(c => c.Value).Order(StringComparer.Ordinal).ToArray();
        var key = $"{id}\n{name}\n{string.Join(',', roles)}";
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.RenewAt > now)
        {
            return cached.Token;
        }

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + _options.Lifetime).UtcDateTime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>
            {
                [TokenClaims.Subject] = id,
                [TokenClaims.UniqueName] = name,
                [TokenClaims.Role] = roles,
            },
        });

        if (_cache.Count >= MaxCached)
        {
            _cache.Clear();
        }

        _cache[key] = (token, now + _options.Lifetime / 2);
        return token;
    }
}
