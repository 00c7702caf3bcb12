using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.IdentityModel.JsonWebTokens;

namespace WebApp.Auth;

/// <summary>
/// The gateway's tokens as the web app keeps them: inside the authentication cookie's properties,
/// which ASP.NET Core encrypts with Data Protection. The browser carries them but can neither read
/// nor change them, and no page script ever sees them (the cookie is HttpOnly).
/// </summary>
internal static class SessionTokens
{
    public const string AccessToken = "access_token";
    public const string RefreshToken = "refresh_token";
    public const string ExpiresAt = "expires_at";

    public const string NameClaim = "unique_name";
    public const string RoleClaim = "role";
    public const string SubjectClaim = "sub";

    public static void Store(AuthenticationProperties properties, TokenPair tokens, DateTimeOffset now)
    {
        properties.StoreTokens(
        [
            new AuthenticationToken { Name = AccessToken, Value = tokens.AccessToken },
            new AuthenticationToken { Name = RefreshToken, Value = tokens.RefreshToken },
            new AuthenticationToken { Name = ExpiresAt, Value = now.AddSeconds(tokens.ExpiresIn).ToString("o", CultureInfo.InvariantCulture) },
        ]);
    }

    public static DateTimeOffset? GetExpiry(AuthenticationProperties properties) =>
        DateTimeOffset.TryParse(properties.GetTokenValue(ExpiresAt), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expiresAt) ? expiresAt : null;

    /// <summary>
    /// The person the access token names. The token is not validated here (the web app does not
    /// hold the gateway's key, and the gateway validates it on every call): it came straight from
    /// the gateway over the web app's own connection, and it only decides what the pages show.
    /// </summary>
    public static ClaimsPrincipal CreatePrincipal(string accessToken)
    {
        var token = new JsonWebToken(accessToken);
        var claims = token.Claims
            .Where(c => c.Type is SubjectClaim or NameClaim or RoleClaim)
            .Select(c => new Claim(c.Type, c.Value));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "MovieDb", NameClaim, RoleClaim));
    }

    public static string UserId(this ClaimsPrincipal user) => user.FindFirstValue(SubjectClaim) ?? string.Empty;
}
