using System.Text;
using MovieDb.Messaging;
using RabbitMQ.Client;

namespace MovieDb.Tests.Unit;

/// <summary>What a request's or a reply's signature covers, and what it refuses.</summary>
public sealed class MessageSignaturesTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("unit-tests-messaging-signing-key-0123456789-abcdefghijklmnopqrstuv");
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"actor":{"userId":"u-1","stampHash":"ab"},"userId":"u-2","roles":["admin"]}""");

    private static BasicProperties Signed(SignedMessage kind = SignedMessage.Request, DateTimeOffset? at = null)
    {
        var properties = new BasicProperties
        {
            MessageId = "request-1",
            Type = "users.update",
            CorrelationId = "c-1",
            ReplyTo = "gateway.replies.1",
            Headers = new Dictionary<string, object?> { [Topology.DeadlineHeader] = Now.AddSeconds(5).ToUnixTimeMilliseconds() },
        };
        MessageSignatures.Sign(kind, properties, Body, Key, at ?? Now);
        return properties;
    }

    private static string? Check(IReadOnlyBasicProperties properties, byte[]? body = null, byte[]? key = null, SignedMessage kind = SignedMessage.Request) =>
        MessageSignatures.Check(kind, properties, body ?? Body, key ?? Key, Now, TimeSpan.FromMinutes(10));

    [Fact]
    public void A_message_as_it_was_signed_passes()
    {
        Assert.Null(Check(Signed()));
        Assert.Null(Check(Signed(SignedMessage.Reply), kind: SignedMessage.Reply));
    }

    public static TheoryData<string> Changes => ["message id", "type", "correlation id", "reply queue", "deadline", "signing time", "body", "key"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void A_change_to_anything_signed_is_refused(string change)
    {
        var properties = Signed();
        var body = Body;
        var key = Key;
        switch (change)
        {
            case "message id": properties.MessageId = "request-2"; break;
            case "type": properties.Type = "users.delete"; break;
            case "correlation id": properties.CorrelationId = "c-2"; break;
            case "reply queue": properties.ReplyTo = "attacker.replies"; break;
            case "deadline": properties.Headers![Topology.DeadlineHeader] = Now.AddDays(1).ToUnixTimeMilliseconds(); break;
            case "signing time": properties.Headers![MessageSignatures.SignedAtHeader] = Now.AddSeconds(1).ToUnixTimeMilliseconds(); break;
            case "body": body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(Body).Replace("u-2", "u-3", StringComparison.Ordinal)); break;
            default: key = Encoding.UTF8.GetBytes("another-key-of-the-same-length-0123456789-abcdefghijklmnopqrstuv"); break;
        }

        Assert.Contains("does not match", Check(properties, body, key), StringComparison.Ordinal);
    }

    [Fact]
    public void Moving_text_from_one_field_to_the_next_is_a_change()
    {
        var properties = Signed();
        properties.MessageId = "request-1\nusers.update";
        properties.Type = string.Empty;

        Assert.NotNull(Check(properties));
    }

    [Fact]
    public void A_reply_s_signature_does_not_make_a_request_and_a_request_s_does_not_make_a_reply()
    {
        Assert.NotNull(Check(Signed(SignedMessage.Reply), kind: SignedMessage.Request));
        Assert.NotNull(Check(Signed(SignedMessage.Request), kind: SignedMessage.Reply));
    }

    [Fact]
    public void Unsigned_and_malformed_signatures_are_refused()
    {
        Assert.Equal("It is not signed.", Check(new BasicProperties { MessageId = "request-1" }));
        var properties = Signed();
        properties.Headers![MessageSignatures.SignatureHeader] = "not base64url!";
        Assert.Equal("Its signature is malformed.", Check(properties));
        properties.Headers[MessageSignatures.SignatureHeader] = new string('A', 65);
        Assert.Equal("It is not signed.", Check(properties));
    }

    [Fact]
    public void A_signature_older_than_the_lifetime_or_from_the_future_beyond_the_skew_is_refused()
    {
        Assert.Null(Check(Signed(at: Now.AddMinutes(-9))));
        Assert.Null(Check(Signed(at: Now.AddSeconds(50))));
        Assert.Contains("outside the 10 minutes", Check(Signed(at: Now.AddMinutes(-11))), StringComparison.Ordinal);
        Assert.NotNull(Check(Signed(at: Now.AddMinutes(2))));

        // Without a maximum age (replies, broadcasts), only the signature counts.
        Assert.Null(MessageSignatures.Check(SignedMessage.Reply, Signed(SignedMessage.Reply, at: Now.AddDays(-30)), Body, Key, Now, maxAge: null));
    }

    [Fact]
    public void The_signature_travels_as_the_consumer_sees_it_with_string_headers_as_bytes()
    {
        var sent = Signed();
        var received = new BasicProperties(sent)
        {
            Headers = sent.Headers!.ToDictionary(h => h.Key, h => h.Value is string text ? (object?)Encoding.UTF8.GetBytes(text) : h.Value),
        };

        Assert.Null(Check(received));
    }
}
