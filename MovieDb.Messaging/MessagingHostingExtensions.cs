using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MovieDb.Messaging;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Consuming;
using MovieDb.Messaging.Diagnostics;
using MovieDb.Messaging.Events;
using MovieDb.Messaging.Server;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers MovieDb's messaging roles. Each needs <c>AddRabbitMQClient("messaging")</c>
/// (Aspire.RabbitMQ.Client) first; each adds a readiness check that fails while its consumer or
/// channel is down.
/// </summary>
public static class MessagingHostingExtensions
{
    /// <summary>The health check Aspire.RabbitMQ.Client registers for the connection.</summary>
    public const string RabbitMQHealthCheckName = "RabbitMQ.Client";

    /// <summary>Health check of the request client (the caller's side of request/reply).</summary>
    public const string RequestClientHealthCheckName = "messaging-request-client";

    /// <summary>Health check of the request consumer (the handling service's side).</summary>
    public const string RequestHandlersHealthCheckName = "messaging-request-handlers";

    /// <summary>
    /// Adds <see cref="IRequestClient"/>: request/reply to the service that consumes
    /// <paramref name="target"/>, with a reply queue per process, publisher confirms and per-request time-outs.
    /// </summary>
    public static IHostApplicationBuilder AddRequestClient(this IHostApplicationBuilder builder, RequestQueues target)
    {
        builder.AddMessagingCore();
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<ReplyConsumer>(sp, target));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplyConsumer>());
        builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<RequestClient>(sp, target));
        builder.Services.AddSingleton<IRequestClient>(sp => sp.GetRequiredService<RequestClient>());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            RequestClientHealthCheckName,
            sp => new ConsumerHealthCheck(sp.GetRequiredService<ReplyConsumer>(), $"requests to {target.Commands} fail"),
            failureStatus: null,
            tags: null));
        return builder;
    }

    /// <summary>
    /// Adds the hosted consumer of this service's request queues, <paramref name="queues"/>; register
    /// the handlers on the returned registry.
    /// </summary>
    public static RequestHandlerRegistry AddRequestHandlers(this IHostApplicationBuilder builder, RequestQueues queues)
    {
        builder.AddMessagingCore();
        var registry = new RequestHandlerRegistry(builder.Services, queues);
        builder.Services.AddSingleton(registry);
        builder.Services.AddSingleton<RequestHandlerHost>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RequestHandlerHost>());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            RequestHandlersHealthCheckName,
            sp => new ConsumerHealthCheck(sp.GetRequiredService<RequestHandlerHost>()),
            failureStatus: null,
            tags: null));
        return registry;
    }

    /// <summary>Adds <see cref="IEventPublisher"/>.</summary>
    public static IHostApplicationBuilder AddEventPublisher(this IHostApplicationBuilder builder)
    {
        builder.AddMessagingCore();
        builder.Services.TryAddSingleton<IEventPublisher, EventPublisher>();
        return builder;
    }

    /// <summary>
    /// Subscribes this service to domain events (<see cref="IEventPublisher.PublishAsync"/>) on its
    /// own durable queue <paramref name="queue"/>, shared by its instances; add the handlers on the
    /// returned subscription. When the queue does not exist yet, it is declared and then receives
    /// the events parked while no queue received them (<see cref="Topology.UnroutedEventsQueue"/>).
    /// </summary>
    public static EventSubscription AddEventSubscription(this IHostApplicationBuilder builder, string queue) =>
        builder.AddEventSubscription(queue, perInstance: false);

    /// <summary>
    /// Subscribes every instance of this service to broadcasts (<see cref="IEventPublisher.BroadcastAsync"/>
    /// on <see cref="Topology.BroadcastExchange"/>), on an exclusive queue of this process: for
    /// caches that each instance keeps. It does not receive domain events published with
    /// <see cref="IEventPublisher.PublishAsync"/>, so that a cache queue never makes one look
    /// delivered. Work that must happen once per event belongs in
    /// <see cref="AddEventSubscription(IHostApplicationBuilder, string)"/>.
    /// </summary>
    public static EventSubscription AddPerInstanceEventSubscription(this IHostApplicationBuilder builder) =>
        builder.AddEventSubscription($"{builder.Environment.ApplicationName.ToLowerInvariant()}.events.{Guid.NewGuid():N}", perInstance: true);

    private static EventSubscription AddEventSubscription(this IHostApplicationBuilder builder, string queue, bool perInstance)
    {
        builder.AddMessagingCore();
        var subscription = new EventSubscription(queue, builder.Services, perInstance);
        // Keyed by queue: a service may hold several subscriptions, each with its own consumer.
        builder.Services.AddKeyedSingleton(queue, (sp, _) => ActivatorUtilities.CreateInstance<EventSubscriberHost>(sp, subscription));
        builder.Services.AddHostedService(sp => sp.GetRequiredKeyedService<EventSubscriberHost>(queue));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            perInstance ? "messaging-events" : $"messaging-events-{queue}",
            sp => new ConsumerHealthCheck(sp.GetRequiredKeyedService<EventSubscriberHost>(queue)),
            failureStatus: null,
            tags: null));
        return subscription;
    }

    private static void AddMessagingCore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<MessagingOptions>()
            .BindConfiguration(MessagingOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<MessagingMetrics>();
        if (builder.Services.Any(d => d.ServiceType == typeof(BrokerConnection)))
        {
            return;
        }

        if (!builder.Services.Any(d => d.ServiceType == typeof(RabbitMQ.Client.IConnection)))
        {
            throw new InvalidOperationException("MovieDb messaging needs a RabbitMQ connection: call builder.AddRabbitMQClient(\"messaging\") first.");
        }

        builder.Services.AddSingleton<BrokerConnection>();
        builder.Services.PostConfigure<HealthCheckServiceOptions>(BrokerConnection.DecorateHealthCheck);
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(MessagingTelemetry.MeterName))
            .WithTracing(tracing => tracing.AddSource(MessagingTelemetry.ActivitySourceName));
    }

    /// <summary>Ready while the consumer consumes; otherwise says why not.</summary>
    private sealed class ConsumerHealthCheck(QueueConsumer consumer, string? consequence = null) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(consumer.IsConsuming
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(
                    context.Registration.FailureStatus,
                    $"Consumer {consumer.Name} is not consuming{(consumer.LastError is null ? string.Empty : $" ({consumer.LastError})")}{(consequence is null ? "." : $": {consequence}.")}"));
    }
}
