using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Client;

/// <summary>
/// Request/reply over RabbitMQ. Requests are published on one shared confirm channel; replies come
/// to one exclusive, auto-delete queue per process and complete the waiting caller through a
/// registry of pending requests keyed by correlation id. A background loop keeps the reply consumer
/// and channels alive across broker restarts.
/// </summary>
internal sealed partial class RequestClient : BackgroundService, IRequestClient
{
    private static readonly TimeSpan SupervisionInterval = TimeSpan.FromSeconds(1);

    private readonly BrokerConnection _broker;
    private readonly RequestQueues _target;
    private readonly ConfirmChannel _publishChannel;
    private readonly MessagingOptions _options;
    private readonly MessagingMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<RequestClient> _logger;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]?>> _pending = new(StringComparer.Ordinal);
    private IChannel? _replyChannel;
    private readonly ChannelWatch _replyChannelWatch = new();
    private volatile bool _ready;
    private IConnection? _watchedConnection;

    public RequestClient(
        BrokerConnection broker,
        RequestQueues target,
        IOptions<MessagingOptions> options,
        MessagingMetrics metrics,
        IHostEnvironment environment,
        ILogger<RequestClient> logger,
        TimeProvider? time = null)
    {
        _broker = broker;
        _target = target;
        _publishChannel = new ConfirmChannel(broker);
        _options = options.Value;
        _metrics = metrics;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        ReplyQueue = $"{environment.ApplicationName.ToLowerInvariant()}.replies.{Guid.NewGuid():N}";
    }

    /// <summary>The exclusive queue this process receives replies on.</summary>
    public string ReplyQueue { get; }

    /// <summary>Requests waiting for a reply right now.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>True when the reply consumer runs and requests can be sent.</summary>
    public bool IsReady => _ready && _broker.IsOpen && _replyChannel is { IsOpen: true };

    public async Task<RequestResult<TResponse>> SendAsync<TResponse>(IRequest<TResponse> request, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);

        var metadata = MessageMetadata.Of(request.GetType());
        var expectReply = options?.ExpectReply ?? true;
        if (!expectReply && metadata.Kind == MessageKind.Query)
        {
            throw new ArgumentException($"{metadata.Type} is a query: a query is always answered.", nameof(options));
        }

        var requestId = options?.RequestId ?? Guid.NewGuid().ToString();
        var timeout = options?.Timeout ?? _options.RequestTimeout;
        var queue = metadata.Kind == MessageKind.Query ? _target.Queries : _target.Commands;
        var typeTag = new KeyValuePair<string, object?>("messaging.message.type", metadata.Type);

        using var activity = MessagingTelemetry.ActivitySource.StartActivity($"{metadata.Type} send", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "send");
        activity?.SetTag("messaging.destination.name", queue);
        activity?.SetTag("messaging.message.id", requestId);

        if (!IsReady)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "broker unavailable");
            _metrics.RequestsFailed.Add(1, typeTag, new("reason", "broker_unavailable"));
            return new RequestResult<TResponse>(RequestOutcome.BrokerUnavailable, requestId);
        }

        var correlationId = Guid.NewGuid().ToString("N");
        activity?.SetTag("messaging.message.conversation_id", correlationId);
        var waiter = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (expectReply)
        {
            _pending[correlationId] = waiter;
        }

        var started = _time.GetTimestamp();

        try
        {
            var headers = new Dictionary<string, object?>();
            var properties = new BasicProperties
            {
                MessageId = requestId,
                CorrelationId = correlationId,
                ReplyTo = expectReply ? ReplyQueue : null,
                Type = metadata.Type,
                ContentType = MessageSerializer.ContentType,
                // Commands are kept on disk until processed; queries live only as long as their caller waits.
                DeliveryMode = metadata.Kind == MessageKind.Query ? DeliveryModes.Transient : DeliveryModes.Persistent,
                Timestamp = new AmqpTimestamp(_time.GetUtcNow().ToUnixTimeSeconds()),
                Headers = headers,
            };

            if (metadata.Kind == MessageKind.Query)
            {
                // The broker drops the query once nobody waits for it; the consumer also checks the
                // deadline, for queries that expire while already delivered to it.
                properties.Expiration = ((long)Math.Ceiling(timeout.TotalMilliseconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                headers[Topology.DeadlineHeader] = _time.GetUtcNow().Add(timeout).ToUnixTimeMilliseconds();
            }

            TraceContext.Inject(activity, headers);
            var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), MessageSerializer.Options);

            var failure = await PublishAsync(queue, properties, body, cancellationToken);
            if (failure is { } outcome)
            {
                _pending.TryRemove(correlationId, out _);
                activity?.SetStatus(ActivityStatusCode.Error, outcome.ToString());
                _metrics.RequestsFailed.Add(1, typeTag, new("reason", outcome == RequestOutcome.BrokerUnavailable ? "broker_unavailable" : "not_confirmed"));
                return new RequestResult<TResponse>(outcome, requestId);
            }

            _metrics.RequestsSent.Add(1, typeTag);
            if (!expectReply)
            {
                return new RequestResult<TResponse>(RequestOutcome.Sent, requestId);
            }

            var remaining = timeout - _time.GetElapsedTime(started);
            byte[]? replyBody;
            try
            {
                replyBody = remaining > TimeSpan.Zero
                    ? await waiter.Task.WaitAsync(remaining, _time, cancellationToken)
                    : null;
            }
            catch (TimeoutException)
            {
                replyBody = null;
            }

            if (replyBody is null)
            {
                _pending.TryRemove(correlationId, out _);
                activity?.SetStatus(ActivityStatusCode.Error, "timed out");
                _metrics.RequestsTimedOut.Add(1, typeTag);
                LogTimedOut(metadata.Type, requestId, timeout);
                return new RequestResult<TResponse>(RequestOutcome.TimedOut, requestId);
            }

            _metrics.RequestDuration.Record(_time.GetElapsedTime(started).TotalSeconds, typeTag);
            return new RequestResult<TResponse>(RequestOutcome.Replied, requestId, ParseReply<TResponse>(replyBody, metadata.Type));
        }
        finally
        {
            // Cancelled callers, or anything unexpected: never leave an entry behind.
            _pending.TryRemove(correlationId, out _);
        }
    }

    private async Task<RequestOutcome?> PublishAsync(string queue, BasicProperties properties, byte[] body, CancellationToken cancellationToken)
    {
        // Every publish is bounded: RabbitMQ.Client 7.2 can wait forever for a confirm after a
        // broken connection (rabbitmq-dotnet-client#1930).
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        try
        {
            var channel = await _publishChannel.GetAsync(timeout.Token);
            await channel.BasicPublishAsync(exchange: string.Empty, routingKey: queue, mandatory: true, basicProperties: properties, body: body, cancellationToken: timeout.Token);
            return null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("No publisher confirm from RabbitMQ within {Timeout}", _options.PublishTimeout);
            return RequestOutcome.NotConfirmed;
        }
        catch (PublishException ex)
        {
            _logger.LogWarning("RabbitMQ did not accept the request ({Reason})", ex.IsReturn ? "unroutable" : "nack");
            return RequestOutcome.NotConfirmed;
        }
        catch (Exception ex) when (ex is BrokerUnavailableException or AlreadyClosedException or OperationInterruptedException or IOException)
        {
            _logger.LogWarning("RabbitMQ is unavailable: {Error}", ex.Message);
            return RequestOutcome.BrokerUnavailable;
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
            _logger.LogError(ex, "Unreadable reply to {MessageType}", type);
            return Reply<T>.Fail(ReplyStatus.Failed, "Unreadable reply", "The service sent a reply that could not be read.");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await _broker.GetAsync(stoppingToken);
                WatchConnection(connection);
                await EnsureReplyConsumerAsync(connection, stoppingToken);
                _ready = true;
                await Task.Delay(SupervisionInterval, _time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                _logger.LogWarning("Request client not ready: {Error}", ex.Message);
                await DelayQuietly(TimeSpan.FromSeconds(2), stoppingToken);
            }
        }
    }

    private async Task EnsureReplyConsumerAsync(IConnection connection, CancellationToken cancellationToken)
    {
        if (!_replyChannelWatch.NeedsNewChannel(_replyChannel, connection))
        {
            return;
        }

        if (_replyChannel is not null)
        {
            _logger.LogWarning("Reply channel closed ({Reason}); opening a new one", _replyChannel.CloseReason?.ReplyText);
            await _replyChannel.DisposeAsync();
            _replyChannel = null;
        }

        await DeclareTargetQueuesAsync(connection, cancellationToken);
        var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await channel.QueueDeclareAsync(ReplyQueue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: cancellationToken);

            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += OnReplyAsync;
            await channel.BasicConsumeAsync(ReplyQueue, autoAck: true, consumer, cancellationToken);
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }

        _replyChannel = channel;
        _logger.LogInformation("Receiving replies on {ReplyQueue}", ReplyQueue);
    }

    /// <summary>
    /// Declares the target's queues here too, so that commands sent before it ever ran are queued
    /// rather than lost. The target owns their arguments: if they differ from this process's settings
    /// (another Messaging:MaxDeliveries), its declaration stands.
    /// </summary>
    private async Task DeclareTargetQueuesAsync(IConnection connection, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await Topology.DeclareRequestQueuesAsync(channel, _target, _options.MaxDeliveries, cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            _logger.LogWarning("The queues of {Queue} exist with other arguments than this process would declare ({Reason}); using them as they are. Set the same Messaging:MaxDeliveries everywhere.", _target.Commands, ex.ShutdownReason.ReplyText);
        }
    }

    private Task OnReplyAsync(object sender, BasicDeliverEventArgs delivery)
    {
        var correlationId = delivery.BasicProperties.CorrelationId;
        if (correlationId is not null && _pending.TryRemove(correlationId, out var waiter))
        {
            // The body buffer is only valid inside this handler: copy it.
            if (waiter.TrySetResult(delivery.Body.ToArray()))
            {
                _metrics.RepliesReceived.Add(1);
                return Task.CompletedTask;
            }
        }

        _metrics.LateReplies.Add(1);
        LogLateReply(correlationId);
        return Task.CompletedTask;
    }

    private void WatchConnection(IConnection connection)
    {
        if (ReferenceEquals(_watchedConnection, connection))
        {
            return;
        }

        _watchedConnection = connection;

        // The reply queue is exclusive: it and any reply on its way die with the connection. Waiting
        // callers learn it now instead of at their time-out.
        connection.ConnectionShutdownAsync += (_, _) =>
        {
            foreach (var correlationId in _pending.Keys)
            {
                if (_pending.TryRemove(correlationId, out var waiter))
                {
                    waiter.TrySetResult(null);
                }
            }

            return Task.CompletedTask;
        };
    }

    private static async Task DelayQuietly(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _ready = false;
        await base.StopAsync(cancellationToken);
        await _replyChannel.DisposeQuietlyAsync();
        await _publishChannel.DisposeAsync();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No reply to {MessageType} {RequestId} within {Timeout}")]
    private partial void LogTimedOut(string messageType, string requestId, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped a late reply (correlation id {CorrelationId}): its request had timed out")]
    private partial void LogLateReply(string? correlationId);
}
