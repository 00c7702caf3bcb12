using MovieDb.Messaging.Contracts;

namespace MovieDb.Messaging.Client;

/// <summary>How a request over the broker ended, from the requester's side.</summary>
public enum RequestOutcome
{
    /// <summary>The handler replied in time; <see cref="RequestResult{T}.Reply"/> holds its answer.</summary>
    Replied,

    /// <summary>
    /// The broker confirmed the request (it is queued durably) but no reply came in time. A command
    /// will still be processed; a query expires and is dropped.
    /// </summary>
    TimedOut,

    /// <summary>No connection to the broker: nothing was published.</summary>
    BrokerUnavailable,

    /// <summary>The broker did not confirm the publish (refused, unroutable, or no confirm in time).</summary>
    NotConfirmed,

    /// <summary>
    /// A command sent without waiting for a reply (<see cref="RequestOptions.ExpectReply"/> false):
    /// the broker confirmed it, so it is queued durably and will be processed.
    /// </summary>
    Sent,
}

/// <summary>The result of <see cref="IRequestClient.SendAsync{TResponse}"/>.</summary>
/// <typeparam name="T">The value type of a successful reply.</typeparam>
/// <param name="Outcome">How the request ended.</param>
/// <param name="RequestId">The message id: the idempotency key of a command.</param>
/// <param name="Reply">The handler's reply when <paramref name="Outcome"/> is <see cref="RequestOutcome.Replied"/>.</param>
public sealed record RequestResult<T>(RequestOutcome Outcome, string RequestId, Reply<T>? Reply = null);

/// <summary>Per-request options.</summary>
public sealed record RequestOptions
{
    /// <summary>
    /// The message id. For commands it is the idempotency key: the same id never takes effect
    /// twice. Default: a new GUID.
    /// </summary>
    public string? RequestId { get; init; }

    /// <summary>How long to wait for the reply. Default: <see cref="MessagingOptions.RequestTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>
    /// False to send a command one way: it carries no reply address, the handler's reply is not
    /// sent, and the call returns <see cref="RequestOutcome.Sent"/> as soon as the broker confirmed
    /// it. For commands whose outcome the caller must not learn or wait for. Default true; queries
    /// always expect a reply.
    /// </summary>
    public bool ExpectReply { get; init; } = true;
}

/// <summary>Sends requests over RabbitMQ to the <see cref="RequestQueues"/> it was added for, and waits for their replies.</summary>
public interface IRequestClient
{
    /// <summary>
    /// Publishes <paramref name="request"/> (persistent, with publisher confirms) and waits for its
    /// reply. Never throws for broker trouble: the outcome says what happened.
    /// </summary>
    Task<RequestResult<TResponse>> SendAsync<TResponse>(IRequest<TResponse> request, RequestOptions? options = null, CancellationToken cancellationToken = default);
}
