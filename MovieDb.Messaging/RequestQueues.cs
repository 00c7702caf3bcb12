namespace MovieDb.Messaging;

/// <summary>
/// The queues a service takes requests on, named by the service that owns them (in its contracts
/// project): commands on a durable quorum queue that dead-letters after
/// <see cref="MessagingOptions.MaxDeliveries"/> deliveries, queries on a classic queue of transient
/// messages that expire with their caller's time-out, and one dead-letter queue for both. The owner
/// consumes them with <c>AddRequestHandlers</c>; its callers send to them with <c>AddRequestClient</c>.
/// Both sides declare them, so a command sent before the owner ever ran is queued, not lost.
/// </summary>
/// <param name="Commands">The command queue (quorum; messages never expire). It also names the consumer in logs and health reports.</param>
/// <param name="Queries">
/// The query queue: durable, classic, of transient messages. Not a quorum queue: those write every
/// message to disk before confirming it, which doubled the round trip of a read (bench/RESULTS.md),
/// and a query outlives neither its caller's time-out nor a broker restart anyway.
/// </param>
/// <param name="DeadLetters">Where requests end that could not be processed; every message there needs an operator.</param>
public sealed record RequestQueues(string Commands, string Queries, string DeadLetters);
