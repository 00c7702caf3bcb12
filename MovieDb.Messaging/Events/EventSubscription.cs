using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MovieDb.Messaging.Contracts;

namespace MovieDb.Messaging.Events;

/// <summary>
/// Thrown by an <see cref="IEventConsumer{TEvent}"/> for an event that can never be handled, however
/// often it is tried (e.g. a mail the SMTP server refuses for good): the event is dead-lettered at once,
/// kept as it was, instead of being retried up to <c>Messaging:MaxDeliveries</c>. Any other exception
/// means "try again later".
/// </summary>
public sealed class UnprocessableEventException(string message, Exception? innerException = null) : Exception(message, innerException);

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

    /// <summary>The event contracts handled.</summary>
    internal List<Type> Events { get; } = [];

    /// <summary>Handles <typeparamref name="TEvent"/> with <typeparamref name="THandler"/>, resolved from a DI scope per event.</summary>
    public EventSubscription On<TEvent, THandler>()
        where TEvent : IEvent
        where THandler : class, IEventConsumer<TEvent>
    {
        _services.TryAddScoped<THandler>();
        Events.Add(typeof(TEvent));
        _handlers[MessageMetadata.Of<TEvent>().Type] = (services, body, cancellationToken) =>
            services.GetRequiredService<THandler>().HandleAsync(MessageSerializer.Deserialize<TEvent>(body.Span), cancellationToken);
        return this;
    }
}
