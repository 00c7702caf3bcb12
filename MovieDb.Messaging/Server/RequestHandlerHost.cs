using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Consuming;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;

namespace MovieDb.Messaging.Server;

/// <summary>
/// Consumes a service's <see cref="RequestQueues"/> (commands and queries), dispatches each message by its
/// <c>Type</c> to a handler in its own DI scope, publishes the reply (a command's confirmed by the
/// broker, a query's written to the connection) and only then acknowledges. Requests without a
/// valid signature (when a key is configured), unknown types and unreadable bodies are
/// dead-lettered at once; handler failures are retried up to
/// <see cref="MessagingOptions.MaxDeliveries"/> times, then dead-lettered. Either way the sender
/// gets an error reply while it may still be waiting.
/// </summary>
internal sealed class RequestHandlerHost(
    BrokerConnection broker,
    RequestHandlerRegistry registry,
    IServiceScopeFactory scopes,
    IOptions<MessagingOptions> options,
    MessagingMetrics metrics,
    TimeProvider time,
    ILogger<RequestHandlerHost> logger)
    : WorkQueueConsumer(broker, options.Value, MessageSerializer.SecretFields(registry.Contracts), metrics, time, logger)
{
    private readonly SharedChannel _replies = new(broker);

    // A query's reply goes out unconfirmed. All a confirm adds for a query is a second try when the
    // broker refuses or drops a reply it was given (an internal error, a channel error, a cluster
    // node lost between the two services): rare, and without it that caller gets a 504, which "an
    // answer or a 504" allows (for a refresh the second try was worse: it counts as reuse). It cost
    // RabbitMQ ~46 µs and the two services ~41 µs of CPU per round trip, and a quarter of the round
    // trips this 2-core machine makes (bench/RESULTS.md, round three, "The broker's floor").
    private readonly SharedChannel _queryReplies = new(broker, confirms: false);
    private readonly byte[]? _signingKey = options.Value.SigningKeyBytes;

    public override string Name => registry.Queues.Commands;

    protected override IReadOnlyList<string> Queues { get; } = [registry.Queues.Commands, registry.Queues.Queries];

    protected override string DeadLetterQueueFor(string queue) => registry.Queues.DeadLetters;

    protected override Task DeclareTopologyAsync(IConnection connection, IChannel channel, CancellationToken cancellationToken) =>
        Topology.DeclareRequestQueuesAsync(channel, registry.Queues, Options.MaxDeliveries, cancellationToken);

    protected override async Task<DeliveryOutcome> ProcessAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var properties = delivery.Properties;

        // Only what the sender signed is carried out: the broker's readers and publishers cannot make a
        // request up, change one, or send an old one again (MessageSignatures). Checked before anything
        // else, so that nothing unsigned — not even a request of an unknown type — is ever answered.
        if (_signingKey is { } key && MessageSignatures.Check(SignedMessage.Request, properties, delivery.Body.Span, key, Time.GetUtcNow(), maxAge: null) is { } unsigned)
        {
            return DeliveryOutcome.DeadLetter("unauthenticated", unsigned);
        }

        if (properties.Type is null || !registry.Handlers.TryGetValue(properties.Type, out var registration))
        {
            return DeliveryOutcome.DeadLetter("unknown-type", $"No handler for message type '{properties.Type}'.");
        }

        // How long it is honoured depends on its kind, which its signed type names.
        if (_signingKey is not null
            && MessageSignatures.CheckAge(properties, Time.GetUtcNow(), registration.Kind == MessageKind.Query ? MessagingOptions.SignedQueryLifetime : Options.SignedCommandLifetime) is { } stale)
        {
            return DeliveryOutcome.DeadLetter("unauthenticated", stale);
        }

        if (IsPastDeadline(properties))
        {
            return DeliveryOutcome.Expired;
        }

        object request;
        try
        {
            request = registration.Deserialize(delivery.Body);
        }
        catch (JsonException ex)
        {
            return DeliveryOutcome.DeadLetter("unparseable", $"The body is not a valid {properties.Type}: {ex.Message}");
        }

        var context = new RequestContext(properties.MessageId ?? properties.CorrelationId ?? string.Empty, delivery.Attempt, delivery.Redelivered);
        byte[] reply;
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            reply = await registration.Invoke(scope.ServiceProvider, request, context, cancellationToken);
        }
        catch (Exception ex) when (registration.Kind == MessageKind.Query && ex is not OperationCanceledException)
        {
            // A query's queue counts no deliveries, and its caller waits only briefly: a failed
            // query is not retried but set aside at once (the caller gets an error reply).
            return DeliveryOutcome.DeadLetter("handler-failed", $"{ex.GetType().Name}: {ex.Message}");
        }

        // Acknowledged only after its reply: a command's once the broker confirmed it (if that
        // fails, the command goes back to the queue and its idempotent handler answers again); a
        // query's once it is written to the connection, ahead of the acknowledgement.
        await ReplyAsync(properties, reply, registration.Kind == MessageKind.Command ? _replies : _queryReplies, cancellationToken);
        return DeliveryOutcome.Ack;
    }

    protected override async Task OnDeadLetteringAsync(Delivery delivery, DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        // Its reply queue is no one's word: nothing is sent there.
        if (outcome.Reason == "unauthenticated")
        {
            return;
        }

        var title = outcome.Reason switch
        {
            "unknown-type" => "Unknown request type",
            "unparseable" => "Unreadable request",
            _ => "Request failed",
        };

        try
        {
            await ReplyAsync(delivery.Properties, RequestHandlerRegistry.ErrorReply(ReplyStatus.Failed, title, "The request could not be processed and was set aside for an operator."), _replies, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The error reply is a courtesy; the dead letter is what must not be lost.
            logger.LogDebug(ex, "Could not send the error reply for {MessageId}", delivery.Properties.MessageId);
        }
    }

    private async Task ReplyAsync(IReadOnlyBasicProperties request, byte[] body, SharedChannel replies, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.ReplyTo))
        {
            return;
        }

        var headers = new Dictionary<string, object?>();
        TraceContext.Inject(null, headers);
        var properties = new BasicProperties
        {
            CorrelationId = request.CorrelationId,
            MessageId = Guid.NewGuid().ToString(),
            Type = request.Type + ".reply",
            ContentType = MessageSerializer.ContentType,
            Headers = headers,
        };

        if (_signingKey is { } key)
        {
            MessageSignatures.Sign(SignedMessage.Reply, properties, body, key, Time.GetUtcNow());
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.PublishTimeout);
        var channel = await replies.GetAsync(timeout.Token);

        // Not mandatory: if the requester is gone (its reply queue deleted), the reply has no one to go to.
        await channel.BasicPublishAsync(string.Empty, request.ReplyTo, mandatory: false, properties, body, timeout.Token);
    }

    protected override async ValueTask OnStoppedAsync()
    {
        await base.OnStoppedAsync();
        try
        {
            await _replies.DisposeAsync();
        }
        finally
        {
            await _queryReplies.DisposeAsync();
        }
    }

    private bool IsPastDeadline(IReadOnlyBasicProperties properties) =>
        properties.Headers is { } headers
        && headers.TryGetValue(Topology.DeadlineHeader, out var value)
        && value is long deadline
        && Time.GetUtcNow().ToUnixTimeMilliseconds() > deadline;
}
