using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Events;

/// <summary>
/// Publishes events: durable domain events to <see cref="Topology.EventsExchange"/>, and transient
/// broadcasts for the caches of every running instance to <see cref="Topology.BroadcastExchange"/>.
/// </summary>
public interface IEventPublisher
{
    /// <summary>
    /// Publishes the domain event <paramref name="message"/> (persistent, routing key = its type) to
    /// <see cref="Topology.EventsExchange"/> and returns once the broker confirmed it. It reaches the
    /// durable queue of every <c>AddEventSubscription</c>; when no such queue exists it is parked in
    /// <see cref="Topology.UnroutedEventsQueue"/> until one does. Throws
    /// <see cref="BrokerUnavailableException"/> when it could not be published.
    /// </summary>
    Task PublishAsync<TEvent>(TEvent message, CancellationToken cancellationToken = default) where TEvent : IEvent;

    /// <summary>
    /// Broadcasts <paramref name="message"/> (transient, routing key = its type) to
    /// <see cref="Topology.BroadcastExchange"/>: every running instance's
    /// <c>AddPerInstanceEventSubscription</c> receives it, an instance that starts later does not,
    /// and nothing is kept when no instance listens. For caches; work that must happen belongs in
    /// <see cref="PublishAsync"/>. Returns once the broker confirmed it; throws
    /// <see cref="BrokerUnavailableException"/> when it could not be published.
    /// </summary>
    Task BroadcastAsync<TEvent>(TEvent message, CancellationToken cancellationToken = default) where TEvent : IEvent;
}

internal sealed class EventPublisher(BrokerConnection broker, IOptions<MessagingOptions> options, TimeProvider time, ILogger<EventPublisher> logger) : IEventPublisher, IAsyncDisposable
{
    private readonly SharedChannel _channel = new(broker);

    // The channel that was current when each exchange was last declared: a publish to a deleted
    // exchange closes the channel, and the next one declares the exchange again.
    private IChannel? _eventsDeclaredFor;
    private IChannel? _broadcastDeclaredFor;

    public Task PublishAsync<TEvent>(TEvent message, CancellationToken cancellationToken = default) where TEvent : IEvent =>
        PublishAsync(message, Topology.EventsExchange, DeliveryModes.Persistent, cancellationToken);

    public Task BroadcastAsync<TEvent>(TEvent message, CancellationToken cancellationToken = default) where TEvent : IEvent =>
        PublishAsync(message, Topology.BroadcastExchange, DeliveryModes.Transient, cancellationToken);

    private async Task PublishAsync<TEvent>(TEvent message, string exchange, DeliveryModes deliveryMode, CancellationToken cancellationToken) where TEvent : IEvent
    {
        var type = MessageMetadata.Of<TEvent>().Type;
        using var activity = MessagingTelemetry.ActivitySource.StartActivity($"{type} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "publish");
        activity?.SetTag("messaging.destination.name", exchange);

        var headers = new Dictionary<string, object?>();
        TraceContext.Inject(activity, headers);
        var properties = new BasicProperties
        {
            MessageId = Guid.NewGuid().ToString(),
            Type = type,
            ContentType = MessageSerializer.ContentType,
            DeliveryMode = deliveryMode,
            Timestamp = new AmqpTimestamp(time.GetUtcNow().ToUnixTimeSeconds()),
            Headers = headers,
        };

        var body = MessageSerializer.Serialize(message);
        if (exchange == Topology.BroadcastExchange && options.Value.SigningKeyBytes is { } key)
        {
            // What every instance's cache will believe: only holders of the key can broadcast.
            MessageSignatures.Sign(SignedMessage.Broadcast, properties, body, key, time.GetUtcNow());
        }
        else if (exchange == Topology.EventsExchange && options.Value.EventSigningKeyBytes is { } eventKey)
        {
            // What the subscribers act on (a deletion, a mail): only the publisher's word counts.
            MessageSignatures.Sign(SignedMessage.Event, properties, body, eventKey, time.GetUtcNow());
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PublishTimeout);
        try
        {
            var connection = broker.Current ?? await broker.GetAsync(timeout.Token);
            var channel = await _channel.GetAsync(timeout.Token);
            await EnsureDeclaredAsync(connection, channel, exchange, timeout.Token);
            await channel.BasicPublishAsync(exchange, type, mandatory: false, properties, body, timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnavailableException($"RabbitMQ did not confirm the {type} event within {options.Value.PublishTimeout}.");
        }
        catch (Exception ex) when (ex is PublishException or AlreadyClosedException or OperationInterruptedException or IOException)
        {
            throw new BrokerUnavailableException($"Could not publish the {type} event: {ex.Message}", ex);
        }
    }

    private async Task EnsureDeclaredAsync(IConnection connection, IChannel channel, string exchange, CancellationToken cancellationToken)
    {
        if (exchange == Topology.EventsExchange && !ReferenceEquals(_eventsDeclaredFor, channel))
        {
            await EventExchanges.DeclareEventsExchangeAsync(connection, logger, cancellationToken);
            _eventsDeclaredFor = channel;
        }
        else if (exchange == Topology.BroadcastExchange && !ReferenceEquals(_broadcastDeclaredFor, channel))
        {
            await Topology.DeclareBroadcastExchangeAsync(channel, cancellationToken);
            _broadcastDeclaredFor = channel;
        }
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}
