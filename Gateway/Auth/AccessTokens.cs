using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MovieDb.Messaging.Contracts;

namespace Gateway.Auth;

/// <summary>The claim names of MovieDb's access tokens (registered JWT names; no mapping to .NET claim URIs).</summary>
public static class TokenClaims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string UniqueName = JwtRegisteredClaimNames.UniqueName;
    public const string Role = "role";
    public const string JwtId = JwtRegisteredClaimNames.Jti;
}

/// <summary>Issues HS256 access tokens: 15 minutes, <c>sub</c>, <c>unique_name</c>, <c>role</c>, <c>jti</c>, issuer and audience.</summary>
public sealed class AccessTokens(IOptions<JwtOptions> options, SigningKey key, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new();

    public (string Token, int ExpiresIn) Issue(UserDto user)
    {
        var settings = options.Value;
        var now = time.GetUtcNow().UtcDateTime;
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = settings.Issuer,
            Audience = settings.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + settings.AccessTokenLifetime,
            SigningCredentials = new SigningCredentials(key.Key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                [TokenClaims.Subject] = user.Id,
                [TokenClaims.UniqueName] = user.UserName,
                [TokenClaims.Role] = user.Roles.ToArray(),
                [TokenClaims.JwtId] = Guid.NewGuid().ToString("N"),
            },
        });
        return (token, (int)settings.AccessTokenLifetime.TotalSeconds);
    }
}

/// <summary>The signing key, from <c>Jwt:SigningKey</c> or (Development only) generated at start-up.</summary>
public sealed class SigningKey(SymmetricSecurityKey key, bool generated)
{
    public SymmetricSecurityKey Key { get; } = key;

    public bool Generated { get; } = generated;
}

internal static class ClaimsPrincipalExtensions
{
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(TokenClaims.Subject) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole("admin");

    public static Actor ToActor(this ClaimsPrincipal user) => new(user.UserId(), user.IsAdmin());
}
