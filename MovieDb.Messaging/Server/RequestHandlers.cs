using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using MovieDb.Messaging.Contracts;

namespace MovieDb.Messaging.Server;

/// <summary>What a handler knows about the message it handles.</summary>
/// <param name="RequestId">The message id: the idempotency key of a command.</param>
/// <param name="Attempt">1 for the first delivery, more for redeliveries.</param>
/// <param name="Redelivered">True when the broker delivered this message before (e.g. to a consumer that crashed).</param>
public sealed record RequestContext(string RequestId, int Attempt, bool Redelivered);

/// <summary>Handles one request type. Must be idempotent: a request may be delivered more than once.</summary>
/// <typeparam name="TRequest">The request contract.</typeparam>
/// <typeparam name="TResponse">The value of a successful reply.</typeparam>
public interface IRequestHandler<in TRequest, TResponse> where TRequest : IRequest<TResponse>
{
    /// <summary>
    /// Handles the request. Return a failed <see cref="Reply{T}"/> for expected errors (validation,
    /// not found, conflict): it is sent back and the message is acknowledged. Throw for unexpected
    /// errors: the message is tried again, and dead-lettered after the last attempt.
    /// </summary>
    Task<Reply<TResponse>> HandleAsync(TRequest request, RequestContext context, CancellationToken cancellationToken);
}

/// <summary>The request handlers of a service, by message type.</summary>
public sealed class RequestHandlerRegistry
{
    private readonly Dictionary<string, Registration> _handlers = new(StringComparer.Ordinal);
    private readonly IServiceCollection _services;

    internal RequestHandlerRegistry(IServiceCollection services, RequestQueues queues)
    {
        _services = services;
        Queues = queues;
    }

    /// <summary>The queues the handlers take requests from.</summary>
    public RequestQueues Queues { get; }

    internal IReadOnlyDictionary<string, Registration> Handlers => _handlers;

    /// <summary>The request contracts handled.</summary>
    internal List<Type> Contracts { get; } = [];

    /// <summary>Handles <typeparamref name="TRequest"/> with <typeparamref name="THandler"/>, resolved from a DI scope per message.</summary>
    public RequestHandlerRegistry Add<TRequest, TResponse, THandler>()
        where TRequest : IRequest<TResponse>
        where THandler : class, IRequestHandler<TRequest, TResponse>
    {
        var metadata = MessageMetadata.Of<TRequest>();
        if (_handlers.TryGetValue(metadata.Type, out var registered))
        {
            throw new InvalidOperationException(
                $"'{metadata.Type}' has two handlers: {registered.Handler.FullName} and {typeof(THandler).FullName}. A request is handled in one place.");
        }

        _services.TryAddScoped<THandler>();
        Contracts.Add(typeof(TRequest));
        _handlers[metadata.Type] = new Registration(
            typeof(THandler),
            metadata.Kind,
            body => MessageSerializer.Deserialize<TRequest>(body.Span),
            async (services, request, context, cancellationToken) =>
            {
                var handler = services.GetRequiredService<THandler>();
                var reply = await handler.HandleAsync((TRequest)request, context, cancellationToken);
                return MessageSerializer.Serialize(reply);
            });
        return this;
    }

    /// <summary>
    /// Handles every request that a class of <paramref name="assembly"/> implements
    /// <see cref="IRequestHandler{TRequest, TResponse}"/> for (one class may handle several): a new
    /// request needs its handler method and nothing else here. Two handlers of one request stop the start.
    /// </summary>
    public RequestHandlerRegistry AddHandlersFrom(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var add = typeof(RequestHandlerRegistry).GetMethod(nameof(Add))!;
        foreach (var (request, response, handler) in HandlersIn(assembly))
        {
            add.MakeGenericMethod(request, response, handler).Invoke(this, BindingFlags.DoNotWrapExceptions, binder: null, parameters: null, culture: null);
        }

        return this;
    }

    /// <summary>Each request and response type a concrete class of <paramref name="assembly"/> handles, with the class.</summary>
    public static IEnumerable<(Type Request, Type Response, Type Handler)> HandlersIn(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return
            from type in assembly.GetTypes()
            where type is { IsClass: true, IsAbstract: false, IsGenericTypeDefinition: false }
            from contract in type.GetInterfaces()
            where contract.IsGenericType && contract.GetGenericTypeDefinition() == typeof(IRequestHandler<,>)
            let arguments = contract.GetGenericArguments()
            orderby type.FullName, arguments[0].FullName
            select (arguments[0], arguments[1], type);
    }

    internal sealed record Registration(
        Type Handler,
        MessageKind Kind,
        Func<ReadOnlyMemory<byte>, object> Deserialize,
        Func<IServiceProvider, object, RequestContext, CancellationToken, Task<byte[]>> Invoke);

    /// <summary>The error reply for a request that could not be processed, valid for every reply type.</summary>
    internal static byte[] ErrorReply(ReplyStatus status, string title, string? detail) =>
        MessageSerializer.Serialize(Reply<Empty>.Fail(status, title, detail));
}
