using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Consuming;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;

namespace MovieDb.Messaging.Events;

/// <summary>Handles one event type. Must be idempotent: an event may arrive more than once.</summary>
/// <typeparam name="TEvent">The event contract.</typeparam>
public interface IEventConsumer<in TEvent> where TEvent : IEvent
{
    /// <summary>Handles the event. Throw to have it tried again (and dead-lettered after the last attempt).</summary>
    Task HandleAsync(TEvent message, CancellationToken cancellationToken);
}

/// <summary>The events a service subscribes to and the queue it receives them on.</summary>
public sealed class EventSubscription
{
    private readonly Dictionary<string, Func<IServiceProvider, ReadOnlyMemory<byte>, CancellationToken, Task>> _handlers = new(StringComparer.Ordinal);

    private readonly IServiceCollection _services;

    internal EventSubscription(string queue, IServiceCollection services, bool perInstance)
    {
        Queue = queue;
        _services = services;
        PerInstance = perInstance;
    }

    /// <summary>
    /// The queue bound to the events exchange: a durable quorum queue with its own dead-letter queue,
    /// shared by the instances of a service; or, when <see cref="PerInstance"/>, an exclusive queue
    /// of this process that disappears with it.
    /// </summary>
    public string Queue { get; }

    /// <summary>True when every instance gets every event (for caches), rather than one instance each event.</summary>
    public bool PerInstance { get; }

    internal IReadOnlyDictionary<string, Func<IServiceProvider, ReadOnlyMemory<byte>, CancellationToken, Task>> Handlers => _handlers;

    /// <summary>Handles <typeparamref name="TEvent"/> with <typeparamref name="THandler"/>, resolved from a DI scope per event.</summary>
    public EventSubscription On<TEvent, THandler>()
        where TEvent : IEvent
        where THandler : class, IEventConsumer<TEvent>
    {
        _services.TryAddScoped<THandler>();
        _handlers[MessageMetadata.Of<TEvent>().Type] = (services, body, cancellationToken) =>
            services.GetRequiredService<THandler>().HandleAsync(MessageSerializer.Deserialize<TEvent>(body.Span), cancellationToken);
        return this;
    }
}

/// <summary>
/// Consumes a service's durable event queue: each event type bound by routing key, handled in its
/// own DI scope, acknowledged after the handler finished, retried on failure and dead-lettered to
/// <c>{queue}.dead</c> after <see cref="MessagingOptions.MaxDeliveries"/> attempts.
/// </summary>
internal sealed class EventSubscriberHost(
    BrokerConnection broker,
    EventSubscription subscription,
    IServiceScopeFactory scopes,
    IOptions<MessagingOptions> options,
    MessagingMetrics metrics,
    ILogger<EventSubscriberHost> logger)
    : QueueConsumer(broker, options.Value, metrics, logger)
{
    public override string Name => subscription.Queue;

    protected override IReadOnlyList<string> Queues { get; } = [subscription.Queue];

    protected override string DeadLetterQueueFor(string queue) => Topology.DeadLetterQueueFor(queue);

    protected override async Task DeclareTopologyAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await Topology.DeclareEventsExchangeAsync(channel, cancellationToken);
        if (subscription.PerInstance)
        {
            await channel.QueueDeclareAsync(subscription.Queue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: cancellationToken);
        }
        else
        {
            await Topology.DeclareWorkQueueAsync(channel, subscription.Queue, Topology.DeadLetterQueueFor(subscription.Queue), Options.MaxDeliveries, cancellationToken);
        }

        foreach (var type in subscription.Handlers.Keys)
        {
            await channel.QueueBindAsync(subscription.Queue, Topology.EventsExchange, routingKey: type, cancellationToken: cancellationToken);
        }
    }

    protected override async Task<DeliveryOutcome> ProcessAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        if (delivery.Properties.Type is not { } type || !subscription.Handlers.TryGetValue(type, out var handle))
        {
            return subscription.PerInstance
                ? DeliveryOutcome.Ack
                : DeliveryOutcome.DeadLetter("unknown-type", $"No handler for event type '{delivery.Properties.Type}'.");
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
        catch (Exception ex) when (subscription.PerInstance && ex is not OperationCanceledException)
        {
            // A per-instance queue feeds a cache: it has no delivery count to bound retries and no
            // dead-letter queue, so a failure is logged and the event let go.
            logger.LogError(ex, "Event {MessageType} {MessageId} could not be applied to this instance", type, delivery.Properties.MessageId);
        }

        return DeliveryOutcome.Ack;
    }
}
