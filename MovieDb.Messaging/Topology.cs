using RabbitMQ.Client;

namespace MovieDb.Messaging;

/// <summary>
/// The exchanges and queues of MovieDb's messaging, declared in one place; the names of a service's
/// request queues come from that service (<see cref="RequestQueues"/>). Declarations are idempotent
/// and made by both sides, so a command published before its handler ever ran is queued, not lost.
/// </summary>
public static class Topology
{
    /// <summary>
    /// Topic exchange for domain events, published persistent with
    /// <see cref="Events.IEventPublisher.PublishAsync"/> to the durable queues of <c>AddEventSubscription</c>.
    /// Its alternate exchange is <see cref="UnroutedEventsExchange"/>: an event that no queue receives is
    /// parked, not dropped.
    /// </summary>
    public const string EventsExchange = "moviedb.events";

    /// <summary>
    /// The alternate exchange of <see cref="EventsExchange"/> (a fanout exchange): the broker hands
    /// it every event that no queue bound to <see cref="EventsExchange"/> would receive.
    /// </summary>
    public const string UnroutedEventsExchange = "moviedb.events.unrouted";

    /// <summary>
    /// Where events that no queue received are parked: a durable quorum queue bound to
    /// <see cref="UnroutedEventsExchange"/>, without a delivery limit or expiry, so nothing leaves it
    /// unless a consumer takes it. A durable subscription whose queue is declared for the first time
    /// re-publishes what is parked here; an operator can read it too.
    /// </summary>
    public const string UnroutedEventsQueue = "moviedb.events.unrouted";

    /// <summary>
    /// Topic exchange for broadcasts (<see cref="Events.IEventPublisher.BroadcastAsync"/>): transient
    /// notices to every running instance's per-instance queue, for caches. It has no alternate
    /// exchange on purpose: a broadcast nobody hears concerns nobody, and a cache queue must never
    /// make a domain event look delivered.
    /// </summary>
    public const string BroadcastExchange = "moviedb.broadcast";

    /// <summary>The argument that names an exchange's alternate exchange.</summary>
    internal const string AlternateExchangeArgument = "alternate-exchange";

    /// <summary>The dead-letter queue of a durable event-subscriber queue.</summary>
    public static string DeadLetterQueueFor(string queue) => queue + ".dead";

    /// <summary>Header set on every dead-lettered message: why it was dead-lettered.</summary>
    public const string DeadLetterReasonHeader = "x-moviedb-dead-letter-reason";

    /// <summary>Header set on every dead-lettered message: the error, when there was one.</summary>
    public const string DeadLetterDetailHeader = "x-moviedb-dead-letter-detail";

    /// <summary>Header set on every dead-lettered message: the queue it came from.</summary>
    public const string DeadLetterQueueHeader = "x-moviedb-original-queue";

    /// <summary>Header set on every dead-lettered message: how many times it was delivered.</summary>
    public const string DeliveryAttemptsHeader = "x-moviedb-delivery-attempts";

    /// <summary>Header on queries: when the caller stops waiting (Unix time in milliseconds).</summary>
    public const string DeadlineHeader = "x-moviedb-deadline";

    /// <summary>
    /// Declares a service's request queues. (The events exchange is declared by whoever publishes or
    /// subscribes to events, with the care its alternate exchange needs.)
    /// </summary>
    public static async Task DeclareRequestQueuesAsync(IChannel channel, RequestQueues queues, int maxDeliveries, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(queues);
        await DeclareWorkQueueAsync(channel, queues.Commands, queues.DeadLetters, maxDeliveries, cancellationToken);

        // No dead-letter exchange: a query that expires in the queue is simply dropped, so the
        // dead-letter queue holds only messages that failed. The consumer dead-letters poison queries
        // itself, at their first failure; one that crashes its consumer every time expires.
        await channel.QueueDeclareAsync(
            queue: queues.Queries,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "classic" },
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Declares the topic exchange for events with its alternate exchange, after the parking
    /// exchange and queue it needs. On a broker where <see cref="EventsExchange"/> already exists
    /// without that argument (declared by a MovieDb from before it had one), the broker refuses the
    /// declaration with 406 PRECONDITION_FAILED and closes <paramref name="channel"/>
    /// (docs/reliability.md says what an operator does about it).
    /// </summary>
    public static async Task DeclareEventsExchangeAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await DeclareUnroutedEventsAsync(channel, cancellationToken);
        await channel.ExchangeDeclareAsync(
            EventsExchange,
            ExchangeType.Topic,
            durable: true,
            autoDelete: false,
            arguments: new Dictionary<string, object?> { [AlternateExchangeArgument] = UnroutedEventsExchange },
            cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Declares <see cref="UnroutedEventsExchange"/> and <see cref="UnroutedEventsQueue"/> and binds
    /// them; returns how many events are parked at this moment.
    /// </summary>
    public static async Task<uint> DeclareUnroutedEventsAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(UnroutedEventsExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        var parked = await channel.QueueDeclareAsync(
            queue: UnroutedEventsQueue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" },
            cancellationToken: cancellationToken);
        await channel.QueueBindAsync(UnroutedEventsQueue, UnroutedEventsExchange, routingKey: string.Empty, cancellationToken: cancellationToken);
        return parked.MessageCount;
    }

    /// <summary>Declares the topic exchange for broadcasts (no alternate exchange).</summary>
    public static Task DeclareBroadcastExchangeAsync(IChannel channel, CancellationToken cancellationToken) =>
        channel.ExchangeDeclareAsync(BroadcastExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: cancellationToken);

    /// <summary>
    /// Declares a durable quorum work queue whose messages go to <paramref name="deadLetterQueue"/>
    /// (through the default exchange) when they exceed the delivery limit or are rejected.
    /// </summary>
    public static async Task DeclareWorkQueueAsync(IChannel channel, string queue, string deadLetterQueue, int maxDeliveries, CancellationToken cancellationToken)
    {
        await channel.QueueDeclareAsync(
            queue: deadLetterQueue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" },
            cancellationToken: cancellationToken);

        await channel.QueueDeclareAsync(
            queue: queue,
            durable: true,
            exclusive: false,
            autoDelete: false,
            arguments: new Dictionary<string, object?>
            {
                ["x-queue-type"] = "quorum",
                ["x-delivery-limit"] = maxDeliveries,
                ["x-dead-letter-exchange"] = "",
                ["x-dead-letter-routing-key"] = deadLetterQueue,
            },
            cancellationToken: cancellationToken);
    }
}
