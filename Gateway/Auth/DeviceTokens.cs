using System.Buffers.Binary;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Gateway.Settings;
using Microsoft.Extensions.Options;
using UserService.Contracts;

namespace Gateway.Auth;

/// <summary>Whether a stamp hash is an account's current one (the gateway's <see cref="UserSecurityCache"/>).</summary>
public interface ICurrentStamps
{
    ValueTask<bool> IsCurrentAsync(string userId, string stampHash, CancellationToken cancellationToken);
}

/// <summary>A device token's content, once its signature checked out.</summary>
/// <param name="Id">Its random id: the bucket its client's attempts are counted in.</param>
/// <param name="UserId">The account it was issued for.</param>
/// <param name="StampHash">The account's security stamp (its hash) when it was issued.</param>
public sealed record DeviceToken(string Id, string UserId, string StampHash);

/// <summary>
/// Device tokens (OWASP's "device cookies"): a client that signed in to an account successfully gets
/// one, and presents it on its next sign-ins to that account (the <c>Device-Token</c> header). Its
/// attempts are then counted on their own, so guesses from anywhere else never make the account's
/// owner wait — across restarts and gateway instances, since the token itself carries the proof: the
/// account it is for (name, id and security stamp), a random id, its issue time, and an HMAC with a key
/// derived from <c>Jwt:SigningKey</c>. A change of the account's stamp (a new password, a role change,
/// a sign-out everywhere) ends every device token of the account: whoever once knew an old password
/// keeps nothing from it.
/// </summary>
public sealed class DeviceTokens(SigningKeyring keys, IOptions<RateLimitingOptions> options, TimeProvider time)
{
    /// <summary>The request and response header that carries a device token.</summary>
    public const string Header = "Device-Token";

    /// <summary>Longer than any token this class makes: anything longer is not looked at.</summary>
    public const int MaxLength = 512;

    private const byte Version = 2;
    private const int IdBytes = 16;
    private const int StampHashBytes = 32;

    private readonly byte[] _key = HKDF.DeriveKey(HashAlgorithmName.SHA256, keys.AccessTokens.Key, 32, salt: [], info: "MovieDb device tokens v2"u8.ToArray());

    /// <summary>A new token for the account that just signed in: its name as typed, its id and its stamp's hash (hex).</summary>
    public string Issue(string userName, string userId, string stampHash)
    {
        var account = Encoding.UTF8.GetBytes(UserRules.NormalizeUserName(userName));
        var id = Encoding.UTF8.GetBytes(userId);
        var stamp = Convert.FromHexString(stampHash);
        if (id.Length > byte.MaxValue || stamp.Length != StampHashBytes)
        {
            throw new ArgumentException("Not an account id and a SHA-256 stamp hash.", nameof(userId));
        }

        var payload = new byte[1 + IdBytes + sizeof(long) + StampHashBytes + 1 + id.Length + account.Length];
        var span = payload.AsSpan();
        span[0] = Version;
        RandomNumberGenerator.Fill(span.Slice(1, IdBytes));
        BinaryPrimitives.WriteInt64BigEndian(span[(1 + IdBytes)..], time.GetUtcNow().ToUnixTimeSeconds());
        stamp.CopyTo(span[(1 + IdBytes + sizeof(long))..]);
        span[1 + IdBytes + sizeof(long) + StampHashBytes] = (byte)id.Length;
        id.CopyTo(span[(2 + IdBytes + sizeof(long) + StampHashBytes)..]);
        account.CopyTo(span[(2 + IdBytes + sizeof(long) + StampHashBytes + id.Length)..]);
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_key, payload));
    }

    /// <summary>
    /// The token's content when it is one of ours, unexpired, and for the account <paramref name="userName"/>
    /// names (in any spelling); otherwise null. Whether its stamp is still the account's is the caller's to ask.
    /// </summary>
    public DeviceToken? Validate(string? token, string userName)
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

        const int fixedLength = 2 + IdBytes + sizeof(long) + StampHashBytes;
        if (payload.Length <= fixedLength || payload[0] != Version
            || !CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(_key, payload)))
        {
            return null;
        }

        var idLength = payload[fixedLength - 1];
        if (payload.Length <= fixedLength + idLength)
        {
            return null;
        }

        var issued = DateTimeOffset.FromUnixTimeSeconds(BinaryPrimitives.ReadInt64BigEndian(payload.AsSpan(1 + IdBytes)));
        var account = Encoding.UTF8.GetString(payload.AsSpan(fixedLength + idLength));
        var now = time.GetUtcNow();
        if (issued > now + TimeSpan.FromMinutes(5) || now - issued > options.Value.SignInFailures.DeviceTokenLifetime
            || account != UserRules.NormalizeUserName(userName))
        {
            return null;
        }

        return new DeviceToken(
            Base64Url.EncodeToString(payload.AsSpan(1, IdBytes)),
            Encoding.UTF8.GetString(payload.AsSpan(fixedLength, idLength)),
            Convert.ToHexString(payload.AsSpan(1 + IdBytes + sizeof(long), StampHashBytes)));
    }
}
