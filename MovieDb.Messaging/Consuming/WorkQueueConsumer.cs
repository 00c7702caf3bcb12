using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace MovieDb.Messaging.Consuming;

/// <summary>
/// A consumer of durable work queues with manual acknowledgements, bounded prefetch and concurrency:
/// request handlers and event subscriptions. Subclasses decide what a delivery means; this class
/// owns the AMQP side: ack only after processing, return failed messages for another attempt, and
/// after <see cref="MessagingOptions.MaxDeliveries"/> attempts (or for messages that can never
/// succeed) move them to the dead-letter queue with a reason header — never drop them, never loop forever.
/// </summary>
internal abstract partial class WorkQueueConsumer : QueueConsumer
{
    /// <summary>
    /// The longest pause before a message whose dead-lettering failed goes back to its queue. It
    /// slows the loop against a broker that keeps refusing, but the message holds one of the
    /// consumer's concurrency slots meanwhile: half a minute keeps good messages flowing beside a
    /// handful of such messages, whatever <see cref="MessagingOptions.RetryDelay"/> and the attempt are.
    /// </summary>
    private static readonly TimeSpan MaxDeadLetterRetryPause = TimeSpan.FromSeconds(30);

    private readonly DeadLetterPublisher _deadLetters;
    private readonly ILogger _logger;

    protected WorkQueueConsumer(BrokerConnection broker, MessagingOptions options, IReadOnlySet<string> secretFields, MessagingMetrics metrics, TimeProvider time, ILogger logger)
        : base(broker, new ConsumerSettings(AutoAck: false, options.PrefetchCount, options.ConsumerConcurrency), time, logger)
    {
        Options = options;
        Metrics = metrics;
        _logger = logger;
        _deadLetters = new DeadLetterPublisher(broker, options, secretFields);
    }

    protected MessagingOptions Options { get; }

    protected MessagingMetrics Metrics { get; }

    /// <summary>Where a message from <paramref name="queue"/> goes when it is dead-lettered.</summary>
    protected abstract string DeadLetterQueueFor(string queue);

    /// <summary>Processes one delivery. Exceptions mean "try again" (until the attempts run out).</summary>
    protected abstract Task<DeliveryOutcome> ProcessAsync(Delivery delivery, CancellationToken cancellationToken);

    /// <summary>Called when a delivery is about to be dead-lettered, e.g. to answer its sender.</summary>
    protected virtual Task OnDeadLetteringAsync(Delivery delivery, DeliveryOutcome outcome, CancellationToken cancellationToken) => Task.CompletedTask;

    protected sealed override async Task HandleDeliveryAsync(IChannel channel, string queue, BasicDeliverEventArgs args)
    {
        var cancellationToken = ProcessingToken;
        var properties = args.BasicProperties;
        var delivery = new Delivery(queue, properties, args.Body, DeliveryCount(properties) + 1, args.Redelivered);
        using var activity = StartActivity(delivery);
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (await DecideAsync(delivery, cancellationToken) is not { } outcome)
            {
                // Shutting down: the broker redelivers what we did not acknowledge.
                return;
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
            Metrics.HandlerDuration.Record(
                Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("messaging.message.type", properties.Type),
                new KeyValuePair<string, object?>("messaging.destination.name", queue));
        }
    }

    /// <summary>What to do with the delivery; null when the host is stopping and it is left to the broker.</summary>
    private async Task<DeliveryOutcome?> DecideAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        DeliveryOutcome outcome;
        try
        {
            outcome = await ProcessAsync(delivery, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex)
        {
            outcome = DeliveryOutcome.Retry($"{ex.GetType().Name}: {ex.Message}");
            LogHandlerFailed(ex, Name, delivery.Properties.Type, delivery.Properties.MessageId, delivery.Attempt);
        }

        return outcome.Action == DeliveryAction.Retry && delivery.Attempt >= Options.MaxDeliveries
            ? DeliveryOutcome.DeadLetter("max-deliveries-exceeded", outcome.Detail)
            : outcome;
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
                Metrics.Expired.Add(1, typeTag);
                LogExpired(Name, delivery.Properties.Type, delivery.Properties.MessageId);
                await channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken);
                break;

            case DeliveryAction.Retry:
                Metrics.Retried.Add(1, typeTag);
                await Task.Delay(Options.RetryDelay * delivery.Attempt, cancellationToken);
                await channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true, cancellationToken);
                break;

            case DeliveryAction.DeadLetter:
                await DeadLetterAsync(channel, deliveryTag, delivery, outcome, cancellationToken);
                break;
        }
    }

    private async Task DeadLetterAsync(IChannel channel, ulong deliveryTag, Delivery delivery, DeliveryOutcome outcome, CancellationToken cancellationToken)
    {
        var typeTag = new KeyValuePair<string, object?>("messaging.message.type", delivery.Properties.Type);
        await OnDeadLetteringAsync(delivery, outcome, cancellationToken);
        var deadLetterQueue = DeadLetterQueueFor(delivery.Queue);
        try
        {
            await _deadLetters.PublishAsync(delivery, outcome, deadLetterQueue, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The dead-letter queue refused it, is missing, or the broker did not confirm in time.
            // Held unacknowledged, the message would wait for the broker's consumer time-out (30
            // minutes) and then take the whole channel down: hand it back to its queue instead, and
            // the next delivery tries to dead-letter it again.
            var pause = Options.RetryDelay * delivery.Attempt;
            pause = pause < MaxDeadLetterRetryPause ? pause : MaxDeadLetterRetryPause;
            Metrics.DeadLetterFailures.Add(1, typeTag);
            LogDeadLetterFailed(ex, Name, delivery.Properties.Type, delivery.Properties.MessageId, deadLetterQueue, ex.Message, pause.TotalMilliseconds);
            await Task.Delay(pause, cancellationToken);
            await channel.BasicNackAsync(deliveryTag, multiple: false, requeue: true, cancellationToken);
            return;
        }

        Metrics.DeadLettered.Add(1, typeTag, new("reason", outcome.Reason));
        LogDeadLettered(Name, delivery.Properties.Type, delivery.Properties.MessageId, outcome.Reason, delivery.Attempt);
        await channel.BasicAckAsync(deliveryTag, multiple: false, cancellationToken);
    }

    private static Activity? StartActivity(Delivery delivery)
    {
        var properties = delivery.Properties;
        var activity = MessagingTelemetry.ActivitySource.StartActivity(
            $"{properties.Type ?? delivery.Queue} process",
            ActivityKind.Consumer,
            TraceContext.Extract(properties.Headers));
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "process");
        activity?.SetTag("messaging.destination.name", delivery.Queue);
        activity?.SetTag("messaging.message.id", properties.MessageId);
        activity?.SetTag("messaging.message.conversation_id", properties.CorrelationId);
        activity?.SetTag("messaging.rabbitmq.delivery_attempt", delivery.Attempt);
        return activity;
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

    protected override async ValueTask OnStoppedAsync()
    {
        await base.OnStoppedAsync();
        await _deadLetters.DisposeAsync();
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
