using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>Access tokens an attacker might bring: forged, expired, unsigned, tampered, or signed with the wrong algorithm.</summary>
public static class TestTokens
{
    public static string Create(
        string subject,
        string? key = InProcessSystem.SigningKey,
        string issuer = "moviedb",
        string audience = "moviedb-api",
        DateTime? expires = null,
        DateTime? notBefore = null,
        string[]? roles = null,
        string? stamp = null)
    {
        var now = DateTime.UtcNow;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = (notBefore ?? now).AddSeconds(-1),
            NotBefore = notBefore ?? now.AddSeconds(-1),
            Expires = expires ?? now.AddMinutes(15),
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["unique_name"] = "someone", ["role"] = roles ?? ["user"], ["jti"] = Guid.NewGuid().ToString(), ["sst"] = stamp ?? string.Empty },
        };
        if (key is not null)
        {
            descriptor.SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256);
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>The security stamp a real access token carries.</summary>
    public static string StampOf(string accessToken) => new JsonWebToken(accessToken).GetClaim("sst").Value;

    /// <summary>The same claims with <c>alg: none</c> and no signature.</summary>
    public static string AlgNone(string token) =>
        $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""")}.{token.Split('.')[1]}.";

    /// <summary>The payload changed (user → admin), the original signature kept.</summary>
    public static string Tampered(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"user\"", "\"admin\"", StringComparison.Ordinal);
        return $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
    }

    /// <summary>RS256 with the attacker's own key: algorithm confusion.</summary>
    public static string SignedWithRsa(string subject)
    {
        using var rsa = RSA.Create(2048);
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "moviedb",
            Audience = "moviedb-api",
            Expires = DateTime.UtcNow.AddMinutes(10),
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["role"] = "admin" },
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256),
        });
    }
}
