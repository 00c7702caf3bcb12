using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Consuming;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Client;

/// <summary>
/// The request client's side of the broker, kept alive by the consumer core: one exclusive,
/// auto-delete reply queue per process, consumed with automatic acknowledgements, and the registry of
/// requests waiting for a reply, keyed by correlation id. Its set-up also declares the target's
/// request queues, so that commands sent before the target ever ran are queued rather than lost.
/// </summary>
internal sealed partial class ReplyConsumer(
    BrokerConnection broker,
    RequestQueues target,
    IOptions<MessagingOptions> options,
    MessagingMetrics metrics,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<ReplyConsumer> logger)
    : QueueConsumer(broker, new ConsumerSettings(AutoAck: true, PrefetchCount: null, Concurrency: 1), time, logger)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<byte[]?>> _pending = new(StringComparer.Ordinal);
    private readonly byte[]? _signingKey = options.Value.SigningKeyBytes;

    /// <summary>The exclusive queue this process receives replies on.</summary>
    public string ReplyQueue { get; } = $"{environment.ApplicationName.ToLowerInvariant()}.replies.{Guid.NewGuid():N}";

    public override string Name => ReplyQueue;

    /// <summary>Requests waiting for a reply right now.</summary>
    public int PendingCount => _pending.Count;

    protected override IReadOnlyList<string> Queues => [ReplyQueue];

    /// <summary>
    /// Registers a waiter for the reply to <paramref name="correlationId"/>. It completes with the
    /// reply's body, or with null when the reply can no longer come (the connection, and with it the
    /// reply queue, went away).
    /// </summary>
    public Task<byte[]?> Expect(string correlationId)
    {
        var waiter = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[correlationId] = waiter;
        return waiter.Task;
    }

    /// <summary>Stops waiting for <paramref name="correlationId"/>: a reply that comes after is late.</summary>
    public void Forget(string correlationId) => _pending.TryRemove(correlationId, out _);

    protected override async Task DeclareTopologyAsync(IConnection connection, IChannel channel, CancellationToken cancellationToken)
    {
        await DeclareTargetQueuesAsync(connection, cancellationToken);
        await channel.QueueDeclareAsync(ReplyQueue, durable: false, exclusive: true, autoDelete: true, arguments: null, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// On a channel of its own: the target owns the queues' arguments, and if they differ from this
    /// process's settings (another Messaging:MaxDeliveries) the broker refuses the declaration and
    /// closes its channel, while the target's declaration stands.
    /// </summary>
    private async Task DeclareTargetQueuesAsync(IConnection connection, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            await Topology.DeclareRequestQueuesAsync(channel, target, options.Value.MaxDeliveries, cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            LogQueuesDiffer(target.Commands, ex.ShutdownReason.ReplyText);
        }
    }

    protected override Task HandleDeliveryAsync(IChannel channel, string queue, BasicDeliverEventArgs delivery)
    {
        var correlationId = delivery.BasicProperties.CorrelationId;

        // A reply that the handling service did not sign is no answer: whoever can publish to this
        // queue could otherwise answer a sign-in with someone else's session. The real one may still come.
        if (_signingKey is { } key
            && MessageSignatures.Check(SignedMessage.Reply, delivery.BasicProperties, delivery.Body.Span, key, Time.GetUtcNow(), maxAge: null) is { } unsigned)
        {
            metrics.RepliesRefused.Add(1);
            LogRefusedReply(correlationId, unsigned);
            return Task.CompletedTask;
        }

        // The body buffer is only valid inside this handler: copy it.
        if (correlationId is not null && _pending.TryRemove(correlationId, out var waiter) && waiter.TrySetResult(delivery.Body.ToArray()))
        {
            metrics.RepliesReceived.Add(1);
        }
        else
        {
            metrics.LateReplies.Add(1);
            LogLateReply(correlationId);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// The reply queue is exclusive: it and any reply on its way die with the connection. Waiting
    /// callers learn it now instead of at their time-out.
    /// </summary>
    protected override void OnConnection(IConnection connection) =>
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "The queues of {Queue} exist with other arguments than this process would declare ({Reason}); using them as they are. Set the same Messaging:MaxDeliveries everywhere.")]
    private partial void LogQueuesDiffer(string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a reply (correlation id {CorrelationId}) that the handling service did not sign: {Reason} Someone who can publish on the broker may be forging answers.")]
    private partial void LogRefusedReply(string? correlationId, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dropped a late reply (correlation id {CorrelationId}): its request had timed out")]
    private partial void LogLateReply(string? correlationId);
}
