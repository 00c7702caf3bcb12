using RabbitMQ.Client;

namespace MovieDb.Messaging.Consuming;

/// <summary>One delivery as the processing code sees it.</summary>
/// <param name="Queue">The queue it came from.</param>
/// <param name="Properties">Its AMQP properties.</param>
/// <param name="Body">Its body; valid only while it is being processed.</param>
/// <param name="Attempt">1 for the first delivery, more for redeliveries (the quorum queue counts them).</param>
/// <param name="Redelivered">True when the broker delivered it before.</param>
internal sealed record Delivery(string Queue, IReadOnlyBasicProperties Properties, ReadOnlyMemory<byte> Body, int Attempt, bool Redelivered);

/// <summary>What to do with a delivery once it has been processed.</summary>
internal readonly record struct DeliveryOutcome(DeliveryAction Action, string? Reason = null, string? Detail = null)
{
    public static DeliveryOutcome Ack { get; } = new(DeliveryAction.Ack);

    public static DeliveryOutcome Expired { get; } = new(DeliveryAction.Drop, "expired");

    public static DeliveryOutcome Retry(string detail) => new(DeliveryAction.Retry, "handler-failed", detail);

    public static DeliveryOutcome DeadLetter(string reason, string? detail = null) => new(DeliveryAction.DeadLetter, reason, detail);
}

internal enum DeliveryAction
{
    Ack,
    Retry,
    DeadLetter,
    Drop,
}
