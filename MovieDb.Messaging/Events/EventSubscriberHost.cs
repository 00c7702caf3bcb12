using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Consuming;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Events;

/// <summary>
/// Consumes a service's event queue: each event type bound by routing key, handled in its own DI
/// scope, acknowledged after the handler finished. A durable subscription's queue is bound to
/// <see cref="Topology.EventsExchange"/>; failures are retried and dead-lettered to
/// <c>{queue}.dead</c> after <see cref="MessagingOptions.MaxDeliveries"/> attempts; and when its
/// queue is declared for the first time, the events parked in <see cref="Topology.UnroutedEventsQueue"/>
/// (published while no queue received them) are re-published, so that it gets them too. A
/// per-instance subscription's exclusive queue is bound to <see cref="Topology.BroadcastExchange"/>.
/// </summary>
internal sealed partial class EventSubscriberHost(
    BrokerConnection broker,
    EventSubscription subscription,
    IServiceScopeFactory scopes,
    IOptions<MessagingOptions> options,
    MessagingMetrics metrics,
    TimeProvider time,
    ILogger<EventSubscriberHost> logger)
    : WorkQueueConsumer(broker, options.Value, MessageSerializer.SecretFields(subscription.Events), metrics, time, logger)
{
    private readonly SharedChannel _replays = new(broker);
    private readonly byte[]? _signingKey = options.Value.SigningKeyBytes;
    private readonly byte[]? _eventSigningKey = options.Value.EventSigningKeyBytes;

    // Set when this process found the queue missing, cleared once the replay finished: a replay that
    // failed half-way is resumed by the next set-up attempt, although the queue exists by then.
    private volatile bool _replayPending;

    public override string Name => subscription.Queue;

    protected override IReadOnlyList<string> Queues { get; } = [subscription.Queue];

    protected override string DeadLetterQueueFor(string queue) => Topology.DeadLetterQueueFor(queue);

    protected override async Task DeclareTopologyAsync(IConnection connection, IChannel channel, CancellationToken cancellationToken)
    {
        if (subscription.PerInstance)
        {
            await Topology.DeclareBroadcastExchangeAsync(channel, cancellationToken);
            await channel.QueueDeclareAsync(subscription.Queue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: cancellationToken);
            await BindAsync(channel, Topology.BroadcastExchange, cancellationToken);
            return;
        }

        await EventExchanges.DeclareEventsExchangeAsync(connection, logger, cancellationToken);
        if (!await QueueExistsAsync(connection, subscription.Queue, cancellationToken))
        {
            _replayPending = true;
        }

        await Topology.DeclareWorkQueueAsync(channel, subscription.Queue, Topology.DeadLetterQueueFor(subscription.Queue), Options.MaxDeliveries, cancellationToken);
        await BindAsync(channel, Topology.EventsExchange, cancellationToken);

        if (_replayPending)
        {
            // After the bindings, so that the re-published events reach this queue.
            await ReplayParkedEventsAsync(connection, cancellationToken);
            _replayPending = false;
        }
    }

    private async Task BindAsync(IChannel channel, string exchange, CancellationToken cancellationToken)
    {
        foreach (var type in subscription.Handlers.Keys)
        {
            await channel.QueueBindAsync(subscription.Queue, exchange, routingKey: type, cancellationToken: cancellationToken);
        }
    }

    /// <summary>A passive declaration, on a channel of its own: the broker closes the channel when the queue is missing.</summary>
    private static async Task<bool> QueueExistsAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        await using var probe = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await probe.QueueDeclarePassiveAsync(queue, cancellationToken);
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
    }

    /// <summary>
    /// Re-publishes the events parked in <see cref="Topology.UnroutedEventsQueue"/> to
    /// <see cref="Topology.EventsExchange"/>, each with its routing key, properties and body, and
    /// acknowledges each only after the broker confirmed its copy: a crash in between leaves it
    /// parked (and may repeat it: event handlers are idempotent). Events that are still unroutable
    /// land in the parking queue again, behind the others; taking only as many as were parked when
    /// the replay started keeps it from taking them again and looping.
    /// </summary>
    /// <remarks>
    /// Two new subscriptions starting at once: a parked message being replayed is unacknowledged,
    /// so the broker gives it to one of them only, and it is re-published once (an instance that
    /// finds the queue empty early simply stops). Two instances of one service replaying into the
    /// same new queue therefore deliver each parked event to it once. Two different new queues each
    /// get a replayed event if both are bound when it is re-published; a queue bound after that
    /// misses it, as a queue declared after an event was routed elsewhere always does: parking
    /// keeps events that no queue received, not a copy for every queue that will ever exist.
    /// </remarks>
    private async Task ReplayParkedEventsAsync(IConnection connection, CancellationToken cancellationToken)
    {
        await using var parking = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var parked = await Topology.DeclareUnroutedEventsAsync(parking, cancellationToken);
        var replayed = 0;
        for (var i = 0; i < parked; i++)
        {
            var message = await parking.BasicGetAsync(Topology.UnroutedEventsQueue, autoAck: false, cancellationToken);
            if (message is null)
            {
                // Another instance is replaying too and took the rest.
                break;
            }

            await RepublishAsync(message, cancellationToken);
            await parking.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            replayed++;
        }

        if (replayed > 0)
        {
            Metrics.EventsReplayed.Add(replayed, new KeyValuePair<string, object?>("messaging.destination.name", subscription.Queue));
        }

        LogReplayed(subscription.Queue, replayed, parked);
    }

    private async Task RepublishAsync(BasicGetResult message, CancellationToken cancellationToken)
    {
        var headers = message.BasicProperties.Headers is { } original
            ? new Dictionary<string, object?>(original)
            : new Dictionary<string, object?>();
        // Bookkeeping of the first publish and of the parking queue, not of the event: the publisher
        // channel sets its own sequence number, and the subscriber must count its own deliveries.
        headers.Remove("x-dotnet-pub-seq-no");
        headers.Remove("x-delivery-count");
        var properties = new BasicProperties(message.BasicProperties) { Headers = headers };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.PublishTimeout);
        var channel = await _replays.GetAsync(timeout.Token);
        await channel.BasicPublishAsync(Topology.EventsExchange, message.RoutingKey, mandatory: false, properties, message.Body, timeout.Token);
    }

    protected override async Task<DeliveryOutcome> ProcessAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        // A durable event is acted on (an account's movies deleted, a mail sent) only when its publisher
        // signed it; anything else is set aside where an operator sees it, never dropped. Checked before
        // its type, like a request.
        if (!subscription.PerInstance && _eventSigningKey is { } eventKey
            && MessageSignatures.Check(SignedMessage.Event, delivery.Properties, delivery.Body.Span, eventKey, Time.GetUtcNow(), maxAge: null) is { } unsignedEvent)
        {
            return DeliveryOutcome.DeadLetter("unauthenticated", unsignedEvent);
        }

        if (delivery.Properties.Type is not { } type || !subscription.Handlers.TryGetValue(type, out var handle))
        {
            return subscription.PerInstance
                ? DeliveryOutcome.Ack
                : DeliveryOutcome.DeadLetter("unknown-type", $"No handler for event type '{delivery.Properties.Type}'.");
        }

        if (subscription.PerInstance && _signingKey is { } key
            && MessageSignatures.Check(SignedMessage.Broadcast, delivery.Properties, delivery.Body.Span, key, Time.GetUtcNow(), maxAge: null) is { } unsigned)
        {
            // A broadcast feeds this instance's cache of rights: only what a holder of the key sent is believed.
            LogRefusedBroadcast(type, delivery.Properties.MessageId, unsigned);
            return DeliveryOutcome.Ack;
        }

        await using var scope = scopes.CreateAsyncScope();
        try
        {
            await handle(scope.ServiceProvider, delivery.Body, cancellationToken);
        }
        catch (JsonException ex)
        {
            return DeliveryOutcome.DeadLetter("unparseable", $"The body is not a valid {type}: {ex.Message}");
        }
        catch (UnprocessableEventException ex) when (!subscription.PerInstance)
        {
            return DeliveryOutcome.DeadLetter("unprocessable", ex.Message);
        }
        catch (Exception ex) when (subscription.PerInstance && ex is not OperationCanceledException)
        {
            // A per-instance queue feeds a cache: it has no delivery count to bound retries and no
            // dead-letter queue, so a failure is logged and the event let go.
            logger.LogError(ex, "Event {MessageType} {MessageId} could not be applied to this instance", type, delivery.Properties.MessageId);
        }

        return DeliveryOutcome.Ack;
    }

    protected override async ValueTask OnStoppedAsync()
    {
        await base.OnStoppedAsync();
        await _replays.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored broadcast {MessageType} {MessageId}, which no holder of the signing key sent: {Reason} Someone who can publish on the broker may be forging broadcasts.")]
    private partial void LogRefusedBroadcast(string messageType, string? messageId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event queue {Queue} is new: re-published {Replayed} of {Parked} parked event(s); those still unroutable are parked again")]
    private partial void LogReplayed(string queue, int replayed, uint parked);
}
