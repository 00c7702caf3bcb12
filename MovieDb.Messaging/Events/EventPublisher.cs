using System.Diagnostics;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Events;

/// <summary>Publishes domain events to <see cref="Topology.EventsExchange"/>.</summary>
public interface IEventPublisher
{
    /// <summary>
    /// Publishes <paramref name="message"/> (persistent, routing key = its type) and returns once the
    /// broker confirmed it. Throws <see cref="BrokerUnavailableException"/> when it could not.
    /// </summary>
    Task PublishAsync<TEvent>(TEvent message, CancellationToken cancellationToken = default) where TEvent : IEvent;
}

internal sealed class EventPublisher(BrokerConnection broker, IOptions<MessagingOptions> options, TimeProvider time) : IEventPublisher, IAsyncDisposable
{
    private readonly ConfirmChannel _channel = new(broker);
    private volatile bool _exchangeDeclared;

    public async Task PublishAsync<TEvent>(TEvent message, CancellationToken cancellationToken = default) where TEvent : IEvent
    {
        var type = MessageMetadata.Of<TEvent>().Type;
        using var activity = MessagingTelemetry.ActivitySource.StartActivity($"{type} publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "rabbitmq");
        activity?.SetTag("messaging.operation.type", "publish");
        activity?.SetTag("messaging.destination.name", Topology.EventsExchange);

        var headers = new Dictionary<string, object?>();
        TraceContext.Inject(activity, headers);
        var properties = new BasicProperties
        {
            MessageId = Guid.NewGuid().ToString(),
            Type = type,
            ContentType = MessageSerializer.ContentType,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = new AmqpTimestamp(time.GetUtcNow().ToUnixTimeSeconds()),
            Headers = headers,
        };

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.PublishTimeout);
        try
        {
            if (broker.Current is null)
            {
                await broker.GetAsync(timeout.Token);
            }

            var channel = await _channel.GetAsync(timeout.Token);
            if (!_exchangeDeclared)
            {
                await Topology.DeclareEventsExchangeAsync(channel, timeout.Token);
                _exchangeDeclared = true;
            }

            await channel.BasicPublishAsync(Topology.EventsExchange, type, mandatory: false, properties, MessageSerializer.Serialize(message), timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BrokerUnavailableException($"RabbitMQ did not confirm the {type} event within {options.Value.PublishTimeout}.");
        }
        catch (Exception ex) when (ex is PublishException or AlreadyClosedException or OperationInterruptedException or IOException)
        {
            throw new BrokerUnavailableException($"Could not publish the {type} event: {ex.Message}", ex);
        }
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();
}
