using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Client;

/// <summary>
/// Request/reply over RabbitMQ to one service's <see cref="RequestQueues"/>. Requests are published
/// on one shared confirm channel; replies come to the <see cref="ReplyConsumer"/>'s queue and complete
/// the waiting caller by correlation id.
/// </summary>
internal sealed partial class RequestClient(
    ReplyConsumer replies,
    BrokerConnection broker,
    RequestQueues target,
    IOptions<MessagingOptions> options,
    MessagingMetrics metrics,
    TimeProvider time,
    ILogger<RequestClient> logger) : IRequestClient, IAsyncDisposable
{
    private readonly SharedChannel _requests = new(broker);
    private readonly MessagingOptions _options = options.Value;
    private readonly byte[]? _signingKey = options.Value.SigningKeyBytes;

    /// <summary>Requests waiting for a reply right now.</summary>
    public int PendingCount => replies.PendingCount;

    /// <summary>True when the reply consumer runs and requests can be sent.</summary>
    public bool IsReady => replies.IsConsuming;

    public async Task<RequestResult<TResponse>> SendAsync<TResponse>(IRequest<TResponse> request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var message = OutgoingRequest.For(request, options, _options.RequestTimeout);
        var typeTag = new KeyValuePair<string, object?>("messaging.message.type", message.Type);
        var queue = message.Kind == MessageKind.Query ? target.Queries : target.Commands;
        using var activity = StartActivity(message, queue);

        if (!IsReady)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "broker unavailable");
            metrics.RequestsFailed.Add(1, typeTag, new("reason", "broker_unavailable"));
            return new RequestResult<TResponse>(RequestOutcome.BrokerUnavailable, message.RequestId);
        }

        var correlationId = Guid.NewGuid().ToString("N");
        activity?.SetTag("messaging.message.conversation_id", correlationId);
        var reply = message.ExpectReply ? replies.Expect(correlationId) : null;
        var started = time.GetTimestamp();
        try
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), MessageSerializer.Options);
            var properties = Properties(message, correlationId, activity);
            if (_signingKey is { } key)
            {
                MessageSignatures.Sign(SignedMessage.Request, properties, body, key, time.GetUtcNow());
            }

            if (await PublishAsync(queue, properties, body, cancellationToken) is { } failure)
            {
                activity?.SetStatus(ActivityStatusCode.Error, failure.ToString());
                metrics.RequestsFailed.Add(1, typeTag, new("reason", failure == RequestOutcome.BrokerUnavailable ? "broker_unavailable" : "not_confirmed"));
                return new RequestResult<TResponse>(failure, message.RequestId);
            }

            metrics.RequestsSent.Add(1, typeTag);
            if (reply is null)
            {
                return new RequestResult<TResponse>(RequestOutcome.Sent, message.RequestId);
            }

            if (await WaitAsync(reply, message.Timeout - time.GetElapsedTime(started), cancellationToken) is not { } replyBody)
            {
                activity?.SetStatus(ActivityStatusCode.Error, "timed out");
                metrics.RequestsTimedOut.Add(1, typeTag);
                LogTimedOut(message.Type, message.RequestId, message.Timeout);
                return new RequestResult<TResponse>(RequestOutcome.TimedOut, message.RequestId);
            }

            metrics.RequestDuration.Record(time.GetElapsedTime(started).TotalSeconds, typeTag);
            return new RequestResult<TResponse>(RequestOutcome.Replied, message.RequestId, ParseReply<TResponse>(replyBody, message.Type));
        }
        finally
        {
            // Timed out, cancelled, or anything unexpected: never leave a waiter behind.
            replies.Forget(correlationId);
        }
    }

    private BasicProperties Properties(OutgoingRequest message, string correlationId, Activity? activity)
    {
        var headers = new Dictionary<string, object?>();
        var properties = new BasicProperties
        {
            MessageId = message.RequestId,
            CorrelationId = correlationId,
            ReplyTo = message.ExpectReply ? replies.ReplyQueue : null,
            Type = message.Type,
            ContentType = MessageSerializer.ContentType,
            // Commands are kept on disk until processed; queries live only as long as their caller waits.
            DeliveryMode = message.Kind == MessageKind.Query ? DeliveryModes.Transient : DeliveryModes.Persistent,
            Timestamp = new AmqpTimestamp(time.GetUtcNow().ToUnixTimeSeconds()),
            Headers = headers,
        };

        if (message.Kind == MessageKind.Query)
        {
            // The broker drops the query once nobody waits for it; the consumer also checks the
            // deadline, for queries that expire while already delivered to it.
            properties.Expiration = ((long)Math.Ceiling(message.Timeout.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture);
            headers[Topology.DeadlineHeader] = time.GetUtcNow().Add(message.Timeout).ToUnixTimeMilliseconds();
        }

        TraceContext.Inject(activity, headers);
        return properties;
    }

    private async Task<RequestOutcome?> PublishAsync(string queue, BasicProperties properties, byte[] body, CancellationToken cancellationToken)
    {
        // Every publish is bounded: RabbitMQ.Client 7.2 can wait forever for a confirm after a
        // broken connection (rabbitmq-dotnet-client#1930).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            var channel = await _requests.GetAsync(timeout.Token);
            await channel.BasicPublishAsync(exchange: string.Empty, routingKey: queue, mandatory: true, basicProperties: properties, body: body, cancellationToken: timeout.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("No publisher confirm from RabbitMQ within {Timeout}", _options.PublishTimeout);
            return RequestOutcome.NotConfirmed;
        }
        catch (PublishException ex)
        {
            logger.LogWarning("RabbitMQ did not accept the request ({Reason})", ex.IsReturn ? "unroutable" : "nack");
            return RequestOutcome.NotConfirmed;
        }
        catch (Exception ex) when (ex is BrokerUnavailableException or AlreadyClosedException or OperationInterruptedException or IOException)
        {
            logger.LogWarning("RabbitMQ is unavailable: {Error}", ex.Message);
            return RequestOutcome.BrokerUnavailable;
        }
    }

    /// <summary>The reply's body, or null when none came within <paramref name="remaining"/>.</summary>
    private async Task<byte[]?> WaitAsync(Task<byte[]?> reply, TimeSpan remaining, CancellationToken cancellationToken)
    {
        try
        {
            return remaining > TimeSpan.Zero ? await reply.WaitAsync(remaining, time, cancellationToken) : null;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private Reply<T> ParseReply<T>(byte[] body, string type)
    {
        try
        {
            return MessageSerializer.Deserialize<Reply<T>>(body);
        }
        catch (JsonException ex)
        {
            logger.LogError(ex, "Unreadable reply to {MessageType}", type);
            return Reply<T>.Fail(ReplyStatus.Failed, "Unreadable reply", "The service sent a reply that could not be read.");
        }
    }

    private static Activity? StartActivity(OutgoingRequest message, string queue)
    {
        var activity = MessagingTelemetry.ActivitySource.StartActivity($"{message.Type} send", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", queue);
        activity?.SetTag("messaging.message.id", message.RequestId);
        return activity;
    }

    public ValueTask DisposeAsync() => _requests.DisposeAsync();

    /// <summary>A request about to be sent, with its per-request options resolved.</summary>
    private sealed record OutgoingRequest(string Type, MessageKind Kind, string RequestId, TimeSpan Timeout, bool ExpectReply)
    {
        public static OutgoingRequest For(object request, RequestOptions? options, TimeSpan defaultTimeout)
        {
            var metadata = MessageMetadata.Of(request.GetType());
            var expectReply = options?.ExpectReply ?? true;
            if (!expectReply && metadata.Kind == MessageKind.Query)
            {
                throw new ArgumentException($"{metadata.Type} is a query: a query is always answered.", nameof(options));
            }

            return new OutgoingRequest(metadata.Type, metadata.Kind, options?.RequestId ?? Guid.NewGuid().ToString(), options?.Timeout ?? defaultTimeout, expectReply);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No reply to {MessageType} {RequestId} within {Timeout}")]
    private partial void LogTimedOut(string messageType, string requestId, TimeSpan timeout);
}
