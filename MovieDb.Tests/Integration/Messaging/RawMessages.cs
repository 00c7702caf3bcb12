using System.Text;
using MovieDb.Messaging;
using MovieDb.Tests.Infrastructure;
using RabbitMQ.Client;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>Messages published and read by a test itself, as anyone with rights on the virtual host could.</summary>
internal static class RawMessages
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The key the tests' gateway and user service share, as bytes.</summary>
    public static byte[] SigningKey => Encoding.UTF8.GetBytes(EndToEnd.InProcessSystem.MessagingSigningKey);

    /// <summary>The key of the user service's events in the tests, as bytes.</summary>
    public static byte[] EventSigningKey => Encoding.UTF8.GetBytes(EndToEnd.InProcessSystem.EventSigningKey);

    /// <summary>Signs a durable event as the user service does (Messaging:EventSigningKey) and returns its properties.</summary>
    public static BasicProperties SignedEvent(BasicProperties properties, byte[] body)
    {
        MessageSignatures.Sign(SignedMessage.Event, properties, body, EventSigningKey, DateTimeOffset.UtcNow);
        return properties;
    }

    /// <summary>Publishes to a queue (confirmed), signed as a request with the shared key unless told otherwise.</summary>
    public static async Task PublishAsync(TestVirtualHost vhost, string queue, BasicProperties properties, byte[] body, bool signed = true)
    {
        if (signed)
        {
            MessageSignatures.Sign(SignedMessage.Request, properties, body, SigningKey, DateTimeOffset.UtcNow);
        }

        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), Ct);
        await channel.BasicPublishAsync(string.Empty, queue, mandatory: true, properties, body, Ct);
    }

    /// <summary>Takes every message waiting in a queue.</summary>
    public static async Task<List<BasicGetResult>> DrainAsync(TestVirtualHost vhost, string queue)
    {
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        var messages = new List<BasicGetResult>();
        while (await channel.BasicGetAsync(queue, autoAck: true, Ct) is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>A header as text (string headers arrive as bytes).</summary>
    public static string Header(BasicGetResult message, string name) =>
        message.BasicProperties.Headers![name] switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture)!,
        };
}
