using MovieDb.Messaging.Contracts;
using RabbitMQ.Client;

namespace MovieDb.Messaging.Consuming;

/// <summary>
/// Moves a delivery to its dead-letter queue: a persistent copy without expiry, with headers that say
/// why, from where and after how many deliveries, and with its secrets masked (dead letters outlive
/// the request). Confirmed by the broker within <see cref="MessagingOptions.PublishTimeout"/>, or it throws.
/// </summary>
/// <remarks>
/// Dead letters have a channel of their own, replaced after every failed publish: a quorum queue that
/// refused a message (overflow reject-publish) keeps refusing that channel until the queue drains below
/// its limit — even after an operator lifted the limit — while a new channel is let in at once. Replies
/// and events never share that fate.
/// </remarks>
internal sealed class DeadLetterPublisher(BrokerConnection broker, MessagingOptions options, IReadOnlySet<string> secretFields) : IAsyncDisposable
{
    private const int MaxDetailLength = 1000;

    private readonly SharedChannel _channel = new(broker);

    public async Task PublishAsync(Delivery delivery, DeliveryOutcome outcome, string deadLetterQueue, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.PublishTimeout);
        var channel = await _channel.GetAsync(timeout.Token);
        try
        {
            await channel.BasicPublishAsync(
                exchange: string.Empty,
                routingKey: deadLetterQueue,
                mandatory: true,
                basicProperties: PropertiesOf(delivery, outcome),
                body: MessageSerializer.Redact(delivery.Body, secretFields),
                cancellationToken: timeout.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await _channel.RetireAsync(channel);
            throw;
        }
    }

    private static BasicProperties PropertiesOf(Delivery delivery, DeliveryOutcome outcome)
    {
        var source = delivery.Properties;
        var headers = source.Headers is null
            ? new Dictionary<string, object?>()
            : new Dictionary<string, object?>(source.Headers);
        headers.Remove("x-dotnet-pub-seq-no");
        headers[Topology.DeadLetterReasonHeader] = outcome.Reason;
        headers[Topology.DeadLetterQueueHeader] = delivery.Queue;
        headers[Topology.DeliveryAttemptsHeader] = delivery.Attempt;
        if (outcome.Detail is { } detail)
        {
            headers[Topology.DeadLetterDetailHeader] = detail.Length <= MaxDetailLength ? detail : detail[..MaxDetailLength];
        }

        return new BasicProperties(source)
        {
            Headers = headers,
            DeliveryMode = DeliveryModes.Persistent,
            Expiration = null,
        };
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}
