using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RabbitMQ.Client;

namespace MovieDb.Messaging;

/// <summary>What a signature vouches for: a request, or the reply to one.</summary>
public enum SignedMessage
{
    /// <summary>A request: its id, type, correlation id, reply queue, deadline, signing time and body.</summary>
    Request,

    /// <summary>A reply: its id, type, correlation id (its request's), signing time and body.</summary>
    Reply,

    /// <summary>A broadcast to every running instance's cache: its id, type, signing time and body.</summary>
    Broadcast,

    /// <summary>A durable event (<c>Messaging:EventSigningKey</c>): its id, type, signing time and body.</summary>
    Event,
}

/// <summary>
/// Requests, replies and broadcasts sealed with a key only the services that exchange them hold
/// (<c>Messaging:SigningKey</c>; durable events with <c>Messaging:EventSigningKey</c>): an HMAC-SHA256 over what the message says and its body, so
/// that whoever can read and publish on the broker can neither make one up nor change one (its
/// actor, its target, where its answer goes) nor send an old request again once its time is past. A
/// command keeps its request id, so a copy of one within its lifetime is answered from the handling
/// service's record of the first, never carried out twice. Replies and broadcasts need no time limit:
/// a reply names its request's correlation id, which is new for every request, so an old reply answers
/// nothing; a broadcast carries a version, so an old one changes nothing.
/// </summary>
public static class MessageSignatures
{
    /// <summary>The header with the signature (base64url).</summary>
    public const string SignatureHeader = "x-moviedb-signature";

    /// <summary>The header with when it was signed (Unix milliseconds).</summary>
    public const string SignedAtHeader = "x-moviedb-signed-at";

    /// <summary>The shortest key accepted: 32 bytes (256 bits), as for HMAC-SHA256 tokens.</summary>
    public const int MinimumKeyLength = 32;

    /// <summary>How far in the future a signing time may be (clocks of two machines differ).</summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>Signs a message about to be published: adds the two headers.</summary>
    public static void Sign(SignedMessage kind, BasicProperties properties, ReadOnlySpan<byte> body, byte[] key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(properties);
        var signedAt = now.ToUnixTimeMilliseconds();
        properties.Headers ??= new Dictionary<string, object?>();
        properties.Headers[SignedAtHeader] = signedAt;
        properties.Headers[SignatureHeader] = Base64Url.EncodeToString(Compute(kind, properties, signedAt, body, key));
    }

    /// <summary>
    /// Null when the message carries a valid signature — made within <paramref name="maxAge"/> and not
    /// later than <see cref="ClockSkew"/> from now, when a maximum age is given; otherwise why not.
    /// </summary>
    public static string? Check(SignedMessage kind, IReadOnlyBasicProperties properties, ReadOnlySpan<byte> body, byte[] key, DateTimeOffset now, TimeSpan? maxAge)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (properties.Headers is not { } headers
            || !headers.TryGetValue(SignatureHeader, out var signatureValue) || Text(signatureValue) is not { Length: > 0 and <= 64 } signatureText
            || !headers.TryGetValue(SignedAtHeader, out var signedAtValue) || signedAtValue is not long signedAt)
        {
            return "It is not signed.";
        }

        byte[] signature;
        try
        {
            signature = Base64Url.DecodeFromChars(signatureText);
        }
        catch (FormatException)
        {
            return "Its signature is malformed.";
        }

        if (!CryptographicOperations.FixedTimeEquals(signature, Compute(kind, properties, signedAt, body, key)))
        {
            return "Its signature does not match it: it was changed, or signed with another key.";
        }

        return maxAge is { } limit ? CheckAge(properties, now, limit) : null;
    }

    /// <summary>
    /// Null when the message, whose signature <see cref="Check"/> found valid, was signed within
    /// <paramref name="maxAge"/> and not later than <see cref="ClockSkew"/> from now; otherwise why not.
    /// </summary>
    public static string? CheckAge(IReadOnlyBasicProperties properties, DateTimeOffset now, TimeSpan maxAge)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (properties.Headers?.TryGetValue(SignedAtHeader, out var value) != true || value is not long signedAt)
        {
            return "It is not signed.";
        }

        var age = now - DateTimeOffset.FromUnixTimeMilliseconds(signedAt);
        return age > maxAge || age < -ClockSkew
            ? string.Create(CultureInfo.InvariantCulture, $"It was signed {age.TotalMinutes:F0} minutes ago, outside the {maxAge.TotalMinutes:F0} minutes a message of its kind is accepted for (are the two machines' clocks set?).")
            : null;
    }

    private static byte[] Compute(SignedMessage kind, IReadOnlyBasicProperties properties, long signedAt, ReadOnlySpan<byte> body, byte[] key)
    {
        var deadline = properties.Headers?.TryGetValue(Topology.DeadlineHeader, out var value) == true && value is long d ? d.ToString(CultureInfo.InvariantCulture) : string.Empty;
        // Each field with its length first: no two different messages read the same.
        var canonical = new StringBuilder(kind switch
        {
            SignedMessage.Request => "moviedb-request-v1",
            SignedMessage.Reply => "moviedb-reply-v1",
            SignedMessage.Broadcast => "moviedb-broadcast-v1",
            _ => "moviedb-event-v1",
        });
        foreach (var field in (ReadOnlySpan<string?>)[properties.MessageId, properties.Type, properties.CorrelationId, properties.ReplyTo, deadline, signedAt.ToString(CultureInfo.InvariantCulture), Convert.ToHexString(SHA256.HashData(body))])
        {
            canonical.Append(CultureInfo.InvariantCulture, $"\n{field?.Length ?? -1}:{field}");
        }

        return HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(canonical.ToString()));
    }

    // String headers arrive as byte[] on the consuming side.
    private static string? Text(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        string text => text,
        _ => null,
    };
}
