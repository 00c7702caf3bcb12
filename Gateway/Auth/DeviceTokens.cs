using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Settings;
using Microsoft.Extensions.Options;
using UserService.Contracts;

namespace Gateway.Auth;

/// <summary>
/// Device tokens (OWASP's "device cookies"): a client that signed in to an account successfully gets
/// one, and presents it on its next sign-ins to that account (the <c>Device-Token</c> header). Its
/// attempts are then counted on their own, so guesses from anywhere else never make the account's
/// owner wait — across restarts and gateway instances, since the token itself carries the proof: the
/// account it is for, a random id, its issue time, and an HMAC with a key derived from
/// <c>Jwt:SigningKey</c>. Nothing about it is stored, but the failed attempts made with it.
/// </summary>
public sealed class DeviceTokens(SigningKeyring keys, IOptions<RateLimitingOptions> options, TimeProvider time)
{
    /// <summary>The request and response header that carries a device token.</summary>
    public const string Header = "Device-Token";

    /// <summary>Longer than any token this class makes: anything longer is not looked at.</summary>
    public const int MaxLength = 256;

    private const byte Version = 1;
    private const int IdBytes = 16;

    private readonly byte[] _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, keys.AccessTokens.Key, 32, salt: [], info: "MovieDb device tokens v1"u8.ToArray());

    /// <summary>A new token for the account that just signed in as <paramref name="userName"/>.</summary>
    public string Issue(string userName)
    {
        var account = Encoding.UTF8.GetBytes(UserRules.NormalizeUserName(userName));
        var payload = new byte[1 + IdBytes + sizeof(long) + account.Length];
        payload[0] = Version;
        RandomNumberGenerator.Fill(payload.AsSpan(1, IdBytes));
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(1 + IdBytes), time.GetUtcNow().ToUnixTimeSeconds());
        account.CopyTo(payload.AsSpan(1 + IdBytes + sizeof(long)));
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload));
    }

    /// <summary>
    /// The token's id when it is one of ours, unexpired, and for the account <paramref name="userName"/>
    /// names (in any spelling); otherwise null.
    /// </summary>
    public string? Validate(string? token, string userName)
    {
        if (string.IsNullOrEmpty(token) || token.Length > MaxLength)
        {
            return null;
        }

        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot < 1)
        {
            return null;
        }

        byte[] payload, signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }

        if (payload.Length <= 1 + IdBytes + sizeof(long) || payload[0] != Version
            || !CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(_key, payload)))
        {
            return null;
        }

        var issued = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(1 + IdBytes)));
        var account = Encoding.UTF8.GetString(payload.AsSpan(1 + IdBytes + sizeof(long)));
        var now = time.GetUtcNow();
        return issued <= now + TimeSpan.FromMinutes(5) && now - issued <= options.Value.SignInFailures.DeviceTokenLifetime
            && account == UserRules.NormalizeUserName(userName)
            ? Base64Url.EncodeToString(payload.AsSpan(1, IdBytes))
            : null;
    }
}
