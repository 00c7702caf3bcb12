using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace MovieDb.Messaging.Consuming;

/// <summary>What to do with a delivery once it has been processed.</summary>
internal readonly record struct DeliveryOutcome(DeliveryAction Action, string? Reason = null, string? Detail = null)
{
    public static DeliveryOutcome Ack { get; } = new(DeliveryAction.Ack);

    public static DeliveryOutcome Retry(string detail) => new(DeliveryAction.Retry, "handler-failed", detail);

    public static DeliveryOutcome DeadLetter(string reason, string? detail = null) => new(DeliveryAction.DeadLetter, reason, detail);

    public static DeliveryOutcome Expired { get; } = new(DeliveryAction.Drop, "expired");
}

internal enum DeliveryAction
{
    Ack,
    Retry,
    DeadLetter,
    Drop,
}

/// <summary>One delivery as the processing code sees it.</summary>
internal sealed record Delivery(string Queue, IReadOnlyBasicProperties Properties, ReadOnlyMemory<byte> Body, int Attempt, bool Redelivered);

/// <summary>
/// A hosted consumer of durable queues with manual acknowledgements, bounded prefetch and
/// concurrency. Subclasses decide what a delivery means; this class owns the AMQP side: ack only
/// after processing, return failed messages for another attempt, and after
/// <see cref="MessagingOptions.MaxDeliveries"/> attempts (or for messages that can never succeed)
/// move them to the dead-letter queue with a reason header — never drop them, never loop forever.
/// </summary>
internal abstract partial class QueueConsumer : BackgroundService
{
    private static readonly TimeSpan SupervisionInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest pause before a message whose dead-lettering failed goes back to its queue. It
    /// slows the loop against a broker that keeps refusing, but the message holds one of the
    /// consumer's concurrency slots meanwhile: half a minute keeps good messages flowing beside a
    /// handful of such messages, whatever <see cref="MessagingOptions.RetryDelay"/> and the attempt are.
    /// </summary>
    private static readonly TimeSpan MaxDeadLetterRetryPause = TimeSpan.FromSeconds(30);

    private readonly BrokerConnection _broker;
    private readonly MessagingMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _setupGate = new(1, 1);
    private IChannel? _channel;
    private List<string> _consumerTags = [];
    private readonly ChannelWatch _channelWatch = new();

    // Dead letters have a channel of their own, replaced after every failed publish: a quorum queue
    // that refused a message (overflow reject-publish) keeps refusing that channel until the queue
    // drains below its limit — even after an operator lifted the limit — while a new channel is
    // let in at once. Replies and events never share that fate.
    private readonly ConfirmChannel _deadLetters;
    private volatile bool _stopping;
    private int _inFlight;
    private CancellationTokenSource? _processing;
    private CancellationToken _processingToken;

    protected QueueConsumer(BrokerConnection broker, MessagingOptions options, MessagingMetrics metrics, ILogger logger)
    {
        _broker = broker;
        Options = options;
        _metrics = metrics;
        _logger = logger;
        Outbound = new ConfirmChannel(broker);
        _deadLetters = new ConfirmChannel(broker);
    }

    protected MessagingOptions Options { get; }

    protected MessagingMetrics Metrics => _metrics;

    /// <summary>A confirm channel for what processing publishes: replies, events.</summary>
    protected ConfirmChannel Outbound { get; }

    /// <summary>True while the consumer is registered on an open channel.</summary>
    public bool IsConsuming => _channel is { IsOpen: true } && _broker.IsOpen;

    /// <summary>The last reason the consumer could not start, for the health check.</summary>
    public string? LastError { get; private set; }

    /// <summary>The queues to consume.</summary>
    protected abstract IReadOnlyList<string> Queues { get; }

    /// <summary>A name for logs and health reports.</summary>
    public abstract string Name { get; }

    /// <summary>The fields masked in dead letters (<see cref="Contracts.MessageSerializer.SecretFields"/> of the contracts handled).</summary>
    protected abstract IReadOnlySet<string> SecretFields { get; }

    /// <summary>Where a message from <paramref name="queue"/> goes when it is dead-lettered.</summary>
    protected abstract string DeadLetterQueueFor(string queue);

    /// <summary>
    /// Declares the queues (and bindings) this consumer needs on <paramref name="channel"/>, the
    /// consuming channel; <paramref name="connection"/> is there for declarations that may fail
    /// (passive checks, arguments that may differ), which belong on a channel of their own because
    /// the broker closes the channel of a failed declaration.
    /// </summary>
    protected abstract Task DeclareTopologyAsync(IConnection connection, IChannel channel, CancellationToken cancellationToken);

    /// <summary>Processes one delivery. Exceptions mean "try again" (until the attempts run out).</summary>
    protected abstract Task<DeliveryOutcome> ProcessAsync(Delivery delivery, CancellationToken cancellationToken);

    /// <summary>Called when a delivery is about to be dead-lettered, e.g. to answer its sender.</summary>
    protected virtual Task OnDeadLetteringAsync(Delivery delivery, DeliveryOutcome outcome, CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        _processing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        _processingToken = _processing.Token;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var connection = await _broker.GetAsync(stoppingToken);
                await EnsureConsumingAsync(connection, stoppingToken);
                LastError = null;
                await Task.Delay(SupervisionInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LastError = ex.Message;
                _logger.LogWarning("Consumer {Consumer} is not consuming: {Error}", Name, ex.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    private async Task EnsureConsumingAsync(IConnection connection, CancellationToken cancellationToken)
    {
        if (!_channelWatch.NeedsNewChannel(_channel, connection))
        {
            return;
        }

        await _setupGate.WaitAsync(cancellationToken);
        try
        {
            if (_channel is not null)
            {
                _logger.LogWarning("Consumer {Consumer}: channel closed ({Reason}); opening a new one", Name, _channel.CloseReason?.ReplyText);
                await _channel.DisposeAsync();
                _channel = null;
            }

            var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(false, false, null, Options.ConsumerConcurrency),
                cancellationToken);
            try
            {
                await DeclareTopologyAsync(connection, channel, cancellationToken);
                await channel.BasicQosAsync(0, Options.PrefetchCount, global: false, cancellationToken);
                var tags = new List<string>();
                foreach (var queue in Queues)
                {
                    var consumer = new AsyncEventingBasicConsumer(channel);
                    consumer.ReceivedAsync += (_, delivery) => OnReceivedAsync(channel, queue, delivery);
                    consumer.UnregisteredAsync += (_, _) => OnConsumerCancelledAsync(channel, queue);
                    tags.Add(await channel.BasicConsumeAsync(queue, autoAck: false, consumer, cancellationToken));
                }

                _consumerTags = tags;
            }
            catch
            {
                await channel.DisposeAsync();
                throw;
            }

            _channel = channel;
            _logger.LogInformation("Consumer {Consumer} is consuming {Queues} (prefetch {Prefetch}, concurrency {Concurrency})",
                Name, string.Join(", ", Queues), Options.PrefetchCount, Options.ConsumerConcurrency);
        }
        finally
        {
            _setupGate.Release();
        }
    }

    /// <summary>
    /// The broker cancels a consumer when its queue goes away (deleted by an operator, say). The
    /// channel is then closed, so that the supervision loop opens a new one, declares the queue
    /// again and consumes it: the consumer heals instead of idling on an open channel.
    /// </summary>
    private Task OnConsumerCancelledAsync(IChannel channel, string queue)
    {
        if (!_stopping)
        {
            _logger.LogWarning("Consumer {Consumer}: the broker cancelled the consumer of {Queue}; starting over", Name, queue);
            _ = Task.Run(async () =>
            {
                try
                {
                    await channel.CloseAsync();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    _logger.LogDebug(ex, "Consumer {Consumer}: closing the channel failed", Name);
                }
            });
        }

        return Task.CompletedTask;
    }

    private async Task OnReceivedAsync(IChannel channel, string queue, BasicDeliverEventArgs args)
    {
        Interlocked.Increment(ref _inFlight);
        var cancellationToken = _processingToken;
        var properties = args.BasicProperties;
        var attempt = DeliveryCount(properties) + 1;
        var delivery = new Delivery(queue, properties, args.Body, attempt, args.Redelivered);

        using var activity = MessagingTelemetry.ActivitySource.StartActivity(
            $"{properties.Type ?? queue} process",
            ActivityKind.Consumer,
            TraceContext.Extract(properties.Headers));
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", queue);
        activity?.SetTag("messaging.message.id", properties.MessageId);
        activity?.SetTag("messaging.message.conversation_id", properties.CorrelationId);
        activity?.SetTag("messaging.rabbitmq.delivery_attempt", attempt);

        var started = Stopwatch.GetTimestamp();
        try
        {
            DeliveryOutcome outcome;
            try
            {
                outcome = await ProcessAsync(delivery, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Shutting down: the broker redelivers what we did not acknowledge.
                return;
            }
            catch (Exception ex)
            {
                outcome = DeliveryOutcome.Retry($"{ex.GetType().Name}: {ex.Message}");
                LogHandlerFailed(ex, Name, properties.Type, properties.MessageId, attempt);
            }

            if (outcome.Action == DeliveryAction.Retry && attempt >= Options.MaxDeliveries)
            {
                outcome = DeliveryOutcome.DeadLetter("max-deliveries-exceeded", outcome.Detail);
            }

            activity?.SetTag("moviedb.messaging.outcome", outcome.Action.ToString().ToLowerInvariant());
            if (outcome.Action is DeliveryAction.Retry or DeliveryAction.DeadLetter)
            {
                activity?.SetStatus(ActivityStatusCode.Error, outcome.Detail ?? outcome.Reason);
            }

            await SettleAsync(channel, args.DeliveryTag, delivery, outcome, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The channel is gone or the broker refused the ack; the message is redelivered.
            _logger.LogWarning(ex, "Consumer {Consumer} could not settle message {MessageId}; the broker will redeliver it", Name, properties.MessageId);
        }
        finally
        {
            _metrics.HandlerDuration.Record(
                Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("messaging.message.type", properties.Type),
                new KeyValuePair<string, object?>("messaging.destination.name", queue));
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task SettleAsync(IChannel channel, ulong deliveryTag, Delivery delivery, DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        var typeTag = new KeyValuePair<string, object?>("messaging.message.type", delivery.Properties.Type);
        switch (outcome.Action)
        {
            case DeliveryAction.Ack:
                await channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken);
                break;

            case DeliveryAction.Drop:
                _metrics.Expired.Add(1, typeTag);
                LogExpired(Name, delivery.Properties.Type, delivery.Properties.MessageId);
                await channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken);
                break;

            case DeliveryAction.Retry:
                _metrics.Retried.Add(1, typeTag);
                await Task.Delay(Options.RetryDelay * delivery.Attempt, cancellationToken);
                await channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true, cancellationToken);
                break;

            case DeliveryAction.DeadLetter:
                await OnDeadLetteringAsync(delivery, outcome, cancellationToken);
                try
                {
                    await PublishDeadLetterAsync(delivery, outcome, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    // The dead-letter queue refused it, is missing, or the broker did not confirm in
                    // time. Held unacknowledged, the message would wait for the broker's consumer
                    // time-out (30 minutes) and then take the whole channel down: hand it back to
                    // its queue instead, and the next delivery tries to dead-letter it again.
                    var pause = DeadLetterRetryPause(delivery.Attempt);
                    _metrics.DeadLetterFailures.Add(1, typeTag);
                    LogDeadLetterFailed(ex, Name, delivery.Properties.Type, delivery.Properties.MessageId, DeadLetterQueueFor(delivery.Queue), ex.Message, pause.TotalMilliseconds);
                    await Task.Delay(pause, cancellationToken);
                    await channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true, cancellationToken);
                    break;
                }

                _metrics.DeadLettered.Add(1, typeTag, new("reason", outcome.Reason));
                LogDeadLettered(Name, delivery.Properties.Type, delivery.Properties.MessageId, outcome.Reason, delivery.Attempt);
                await channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken);
                break;
        }
    }

    private async Task PublishDeadLetterAsync(Delivery delivery, DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        var source = delivery.Properties;
        var headers = source.Headers is null
            ? new Dictionary<string, object?>()
            : new Dictionary<string, object?>(source.Headers);
        headers.Remove("x-dotnet-pub-seq-no");
        headers[Topology.DeadLetterReasonHeader] = outcome.Reason;
        headers[Topology.DeadLetterQueueHeader] = delivery.Queue;
        headers[Topology.DeliveryAttemptsHeader] = delivery.Attempt;
        if (outcome.Detail is not null)
        {
            headers[Topology.DeadLetterDetailHeader] = Truncate(outcome.Detail, 1000);
        }

        var properties = new BasicProperties(source)
        {
            Headers = headers,
            DeliveryMode = DeliveryModes.Persistent,
            Expiration = null,
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.PublishTimeout);
        var outbound = await _deadLetters.GetAsync(timeout.Token);
        try
        {
            // Dead letters outlive the request: passwords and tokens in them are masked.
            await outbound.BasicPublishAsync(
                exchange: string.Empty,
                routingKey: DeadLetterQueueFor(delivery.Queue),
                mandatory: true,
                basicProperties: properties,
                body: Contracts.MessageSerializer.Redact(delivery.Body, SecretFields),
                cancellationToken: timeout.Token);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            await _deadLetters.RetireAsync(outbound);
            throw;
        }
    }

    private TimeSpan DeadLetterRetryPause(int attempt)
    {
        var pause = Options.RetryDelay * attempt;
        return pause < MaxDeadLetterRetryPause ? pause : MaxDeadLetterRetryPause;
    }

    private static int DeliveryCount(IReadOnlyBasicProperties properties)
    {
        // Quorum queues count returned deliveries in x-delivery-count; the count survives restarts.
        if (properties.Headers is { } headers && headers.TryGetValue("x-delivery-count", out var value))
        {
            return value switch
            {
                int i => i,
                long l => (int)Math.Min(l, int.MaxValue),
                byte[] bytes when int.TryParse(Encoding.UTF8.GetString(bytes), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => 0,
            };
        }

        return 0;
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        // Stop taking new messages, let the ones in hand finish (bounded by the host's shutdown
        // time-out), then close: whatever was not acknowledged is redelivered to another instance.
        var channel = _channel;
        if (channel is { IsOpen: true })
        {
            try
            {
                foreach (var tag in _consumerTags)
                {
                    await channel.BasicCancelAsync(tag, noWait: false, cancellationToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _logger.LogDebug(ex, "Consumer {Consumer}: cancel failed", Name);
            }
        }

        while (Volatile.Read(ref _inFlight) > 0 && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        try
        {
            _processing?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already disposed with the host.
        }

        await base.StopAsync(cancellationToken);
        await _channel.DisposeQuietlyAsync();
        await Outbound.DisposeAsync();
        await _deadLetters.DisposeAsync();
    }

    public override void Dispose()
    {
        _processing?.Dispose();
        _setupGate.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: handler for {MessageType} {MessageId} failed (attempt {Attempt})")]
    private partial void LogHandlerFailed(Exception exception, string consumer, string? messageType, string? messageId, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Consumer {Consumer}: dead-lettered {MessageType} {MessageId} ({Reason}) after {Attempt} deliveries")]
    private partial void LogDeadLettered(string consumer, string? messageType, string? messageId, string? reason, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: could not dead-letter {MessageType} {MessageId} to {DeadLetterQueue} ({Error}); returning it to its queue in {PauseMs} ms")]
    private partial void LogDeadLetterFailed(Exception exception, string consumer, string? messageType, string? messageId, string deadLetterQueue, string error, double pauseMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer}: dropped expired query {MessageType} {MessageId}: its caller stopped waiting")]
    private partial void LogExpired(string consumer, string? messageType, string? messageId);
}
