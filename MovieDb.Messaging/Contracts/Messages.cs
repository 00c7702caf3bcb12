namespace MovieDb.Messaging.Contracts;

/// <summary>
/// Whether a request must take effect once sent (a command) or is worth doing only while its caller
/// waits for the answer (a query). Not "writes" versus "reads": a sign-in or a token refresh writes a
/// session, but one nobody receives is useless, so they are queries.
/// </summary>
public enum MessageKind
{
    /// <summary>
    /// Must take effect once the broker has it: persistent on a quorum queue, never expires, retried
    /// up to <see cref="MessagingOptions.MaxDeliveries"/> times; it is processed even if nobody waits
    /// for the reply any more, so its handler is idempotent by request id.
    /// </summary>
    Command,

    /// <summary>
    /// Wanted only while its caller waits: transient, expires with the caller's time-out and is never
    /// retried, so nobody works on an answer nobody waits for. It may read or write state (a sign-in
    /// opens a session): an expired one simply never happens.
    /// </summary>
    Query,
}

/// <summary>
/// Names a message contract on the wire: the AMQP <c>Type</c> property. A contract that changes
/// incompatibly gets a new type (e.g. <c>orders.place.v2</c>) and both are handled for a while.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class MessageAttribute(string type, MessageKind kind = MessageKind.Command) : Attribute
{
    /// <summary>The AMQP <c>Type</c> of the message.</summary>
    public string Type { get; } = type;

    /// <summary>Command or query; ignored for events.</summary>
    public MessageKind Kind { get; } = kind;
}

/// <summary>A request to the service that owns its contract, answered with a <typeparamref name="TResponse"/>.</summary>
/// <typeparam name="TResponse">The value a successful reply carries.</typeparam>
#pragma warning disable CA1040 // A marker interface carries the response type for the compiler.
public interface IRequest<TResponse>;

/// <summary>A domain event published to <see cref="Topology.EventsExchange"/>.</summary>
public interface IEvent;
#pragma warning restore CA1040

/// <summary>The value of replies that carry none.</summary>
public sealed record Empty
{
    /// <summary>The one instance.</summary>
    public static Empty Instance { get; } = new();
}

/// <summary>The wire metadata of message contracts, read once per type from their <see cref="MessageAttribute"/>.</summary>
public static class MessageMetadata
{
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, MessageAttribute> Cache = new();

    /// <summary>The metadata of <paramref name="contract"/>; throws if it has no <see cref="MessageAttribute"/>.</summary>
    public static MessageAttribute Of(Type contract) => Cache.GetOrAdd(contract, static type =>
        (MessageAttribute?)Attribute.GetCustomAttribute(type, typeof(MessageAttribute))
        ?? throw new InvalidOperationException($"{type.Name} has no [Message] attribute naming its wire type."));

    /// <summary>The metadata of <typeparamref name="T"/>.</summary>
    public static MessageAttribute Of<T>() => Of(typeof(T));
}
