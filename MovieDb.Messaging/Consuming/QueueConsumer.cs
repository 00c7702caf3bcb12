using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace MovieDb.Messaging.Consuming;

/// <summary>How a consumer takes its deliveries.</summary>
/// <param name="AutoAck">True when the broker may forget a message as soon as it is delivered (replies).</param>
/// <param name="PrefetchCount">Unacknowledged messages held at once; null for no limit.</param>
/// <param name="Concurrency">Deliveries handled at the same time.</param>
internal sealed record ConsumerSettings(bool AutoAck, ushort? PrefetchCount, ushort Concurrency);

/// <summary>
/// The one consumer core of MovieDb.Messaging: request handlers, the request client's replies and
/// event subscriptions all consume through it. It keeps one channel consuming <see cref="Queues"/>
/// alive for the life of the host: it connects (without ever blocking start-up on the broker),
/// declares what it consumes, and checks every second that the channel is still consuming, setting
/// it up again — with back-off, until it works — when it is not. Subclasses say what a delivery means.
/// </summary>
/// <remarks>
/// After a connection failure, automatic recovery reopens the channel with its queues and consumers,
/// so a closed channel on a closed (or recovering) connection is left alone. Only a channel that
/// stays closed on an open connection — a channel error, which recovery does not repair — is replaced;
/// "stays" means on two checks in a row, since the connection reopens a moment before its channels do.
/// A consumer the broker cancels (its queue was deleted) closes its channel, which is then replaced,
/// declaring the queue again: the consumer heals instead of idling on an open channel.
/// </remarks>
internal abstract partial class QueueConsumer : BackgroundService
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly BrokerConnection _broker;
    private readonly ConsumerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _setUp;
    private readonly CancellationTokenSource _processing = new();
    private Lazy<Task>? _stop;
    private IChannel? _channel;
    private IReadOnlyList<string> _consumerTags = [];
    private IConnection? _seenConnection;
    private int _closedChecks;
    private int _inFlight;
    private volatile bool _stopping;

    protected QueueConsumer(BrokerConnection broker, ConsumerSettings settings, TimeProvider time, ILogger logger)
    {
        _broker = broker;
        _settings = settings;
        _time = time;
        _logger = logger;
        _setUp = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && !(ex is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = TimeSpan.FromSeconds(5),
                UseJitter = true,
                OnRetry = args =>
                {
                    LastError = args.Outcome.Exception?.Message;
                    LogNotConsuming(Name, LastError, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>A name for logs and health reports.</summary>
    public abstract string Name { get; }

    /// <summary>True while the consumer is registered on an open channel of an open connection.</summary>
    public bool IsConsuming => _channel is { IsOpen: true } && _broker.IsOpen;

    /// <summary>Why the last set-up failed, while it keeps failing; for the health check.</summary>
    public string? LastError { get; private set; }

    /// <summary>The queues to consume.</summary>
    protected abstract IReadOnlyList<string> Queues { get; }

    /// <summary>The clock.</summary>
    protected TimeProvider Time => _time;

    /// <summary>Cancelled when the host stops, once the deliveries in hand have finished (or the host's shutdown time ran out).</summary>
    protected CancellationToken ProcessingToken => _processing.Token;

    /// <summary>
    /// Declares the queues (and bindings) this consumer needs on <paramref name="channel"/>, the
    /// consuming channel; <paramref name="connection"/> is there for declarations that may fail
    /// (passive checks, arguments that may differ), which belong on a channel of their own because
    /// the broker closes the channel of a failed declaration.
    /// </summary>
    protected abstract Task DeclareTopologyAsync(IConnection connection, IChannel channel, CancellationToken cancellationToken);

    /// <summary>Handles one delivery, and acknowledges it unless <see cref="ConsumerSettings.AutoAck"/>.</summary>
    protected abstract Task HandleDeliveryAsync(IChannel channel, string queue, BasicDeliverEventArgs delivery);

    /// <summary>Called once for every connection object this consumer sees (a recovered connection is the same object).</summary>
    protected virtual void OnConnection(IConnection connection)
    {
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var timer = new PeriodicTimer(CheckInterval, _time);
        try
        {
            do
            {
                await _setUp.ExecuteAsync(EnsureConsumingAsync, stoppingToken);
                LastError = null;
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async ValueTask EnsureConsumingAsync(CancellationToken cancellationToken)
    {
        var connection = await _broker.GetAsync(cancellationToken);
        if (!ReferenceEquals(_seenConnection, connection))
        {
            _seenConnection = connection;
            OnConnection(connection);
        }

        if (NeedsNewChannel(connection))
        {
            await OpenChannelAsync(connection, cancellationToken);
        }
    }

    private bool NeedsNewChannel(IConnection connection)
    {
        if (_channel is { IsOpen: true })
        {
            _closedChecks = 0;
            return false;
        }

        if (_channel is not null && (!connection.IsOpen || ++_closedChecks < 2))
        {
            return false;
        }

        _closedChecks = 0;
        return true;
    }

    private async Task OpenChannelAsync(IConnection connection, CancellationToken cancellationToken)
    {
        if (_channel is { } closed)
        {
            LogChannelClosed(Name, closed.CloseReason?.ReplyText);
            _channel = null;
            await closed.DisposeQuietlyAsync();
        }

        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, null, _settings.Concurrency), cancellationToken);
        try
        {
            await DeclareTopologyAsync(connection, channel, cancellationToken);
            if (_settings.PrefetchCount is { } prefetch)
            {
                await channel.BasicQosAsync(0, prefetch, global: false, cancellationToken);
            }

            var tags = new List<string>();
            foreach (var queue in Queues)
            {
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) => ReceiveAsync(channel, queue, delivery);
                consumer.UnregisteredAsync += (_, _) => OnConsumerCancelledAsync(channel, queue);
                tags.Add(await channel.BasicConsumeAsync(queue, _settings.AutoAck, consumer, cancellationToken));
            }

            _consumerTags = tags;
        }
        catch
        {
            await channel.DisposeQuietlyAsync();
            throw;
        }

        _channel = channel;
        LogConsuming(Name, string.Join(", ", Queues), _settings.PrefetchCount, _settings.Concurrency);
    }

    private async Task ReceiveAsync(IChannel channel, string queue, BasicDeliverEventArgs delivery)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await HandleDeliveryAsync(channel, queue, delivery);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private Task OnConsumerCancelledAsync(IChannel channel, string queue)
    {
        if (!_stopping)
        {
            LogConsumerCancelled(Name, queue);
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

    /// <summary>
    /// Stops once: a host may be stopped twice at the same time (a WebApplicationFactory stops the host
    /// that the application's own <c>Run</c> stops too); the second caller waits for the first stop,
    /// so neither disposes the consumer while the other is still stopping it.
    /// </summary>
    public sealed override Task StopAsync(CancellationToken cancellationToken)
    {
        var stop = new Lazy<Task>(() => StopOnceAsync(cancellationToken));
        return (Interlocked.CompareExchange(ref _stop, stop, null) ?? stop).Value;
    }

    private async Task StopOnceAsync(CancellationToken cancellationToken)
    {
        // Stop taking new messages, let the ones in hand finish (bounded by the host's shutdown
        // time-out), then close: whatever was not acknowledged is redelivered to another instance.
        _stopping = true;
        await CancelConsumersAsync(cancellationToken);
        while (Volatile.Read(ref _inFlight) > 0 && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None);
        }

        await _processing.CancelAsync();
        await base.StopAsync(cancellationToken);
        await _channel.DisposeQuietlyAsync();
        await OnStoppedAsync();
    }

    /// <summary>Releases what a derived consumer holds for its work (publishing channels), once, after consuming has stopped.</summary>
    protected virtual ValueTask OnStoppedAsync() => ValueTask.CompletedTask;

    private async Task CancelConsumersAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_channel is { IsOpen: true } channel)
            {
                foreach (var tag in _consumerTags)
                {
                    await channel.BasicCancelAsync(tag, noWait: false, cancellationToken);
                }
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogDebug(ex, "Consumer {Consumer}: cancel failed", Name);
        }
    }

    public override void Dispose()
    {
        _processing.Dispose();
        base.Dispose();
        GC.SuppressFinalize(this);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Consumer} is consuming {Queues} (prefetch {Prefetch}, concurrency {Concurrency})")]
    private partial void LogConsuming(string consumer, string queues, ushort? prefetch, ushort concurrency);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer} is not consuming: {Error}; trying again in {DelaySeconds:0.0} s")]
    private partial void LogNotConsuming(string consumer, string? error, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: channel closed ({Reason}); opening a new one")]
    private partial void LogChannelClosed(string consumer, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer {Consumer}: the broker cancelled the consumer of {Queue}; starting over")]
    private partial void LogConsumerCancelled(string consumer, string queue);
}
