using System.Security.Claims;
using Gateway.Settings;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using UserService.Contracts;

namespace Gateway.Auth;

/// <summary>The claim names of MovieDb's access tokens (registered JWT names; no mapping to .NET claim URIs).</summary>
public static class TokenClaims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string UniqueName = JwtRegisteredClaimNames.UniqueName;
    public const string Role = "role";
    public const string JwtId = JwtRegisteredClaimNames.Jti;

    /// <summary>The account's security stamp (its SHA-256, hex) when the token was issued: the token dies when it changes.</summary>
    public const string SecurityStamp = "sst";
}

/// <summary>
/// Issues HS256 access tokens: 15 minutes, <c>sub</c>, <c>unique_name</c>, <c>role</c>, <c>jti</c>,
/// <c>sst</c> (the hash of the account's security stamp), issuer and audience.
/// </summary>
public sealed class AccessTokens(IOptions<JwtOptions> options, SigningKeyring keys, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public (string Token, int ExpiresIn) Issue(UserSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var user = session.User;
        var settings = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + settings.AccessTokenLifetime,
            SigningCredentials = new SigningCredentials(keys.AccessTokens, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                [TokenClaims.Subject] = user.Id,
                [TokenClaims.UniqueName] = user.UserName,
                [TokenClaims.Role] = user.Roles.ToArray(),
                [TokenClaims.JwtId] = Guid.NewGuid().ToString("N"),
                [TokenClaims.SecurityStamp] = session.Security.StampHash,
            },
        });
        return (token, (int)settings.AccessTokenLifetime.TotalSeconds);
    }
}

/// <summary>
/// The gateway's keys: <see cref="AccessTokens"/> from <c>Jwt:SigningKey</c> (generated at start-up in
/// Development when unset), <see cref="Identity"/> from <c>GatewayIdentity:SigningKey</c> (always
/// required: the movie service must hold the same one).
/// </summary>
public sealed class SigningKeyring(SymmetricSecurityKey accessTokens, SymmetricSecurityKey identity)
{
    public SymmetricSecurityKey AccessTokens { get; } = accessTokens;

    public SymmetricSecurityKey Identity { get; } = identity;
}

internal static class ClaimsPrincipalExtensions
{
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(TokenClaims.Subject) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static string UserName(this ClaimsPrincipal user) =>
        user.FindFirstValue(TokenClaims.UniqueName) ?? throw new InvalidOperationException("The request is not authenticated.");

    /// <summary>An admin now: the role claims are the account's current roles (see <see cref="UserSecurityCache"/>).</summary>
    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole("admin");

    public static Actor ToActor(this ClaimsPrincipal user) => new(user.UserId(), user.FindFirstValue(TokenClaims.SecurityStamp) ?? string.Empty);
}
