using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MovieDb.Messaging.Diagnostics;
using MovieDb.Messaging.RabbitMQ;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Registers a RabbitMQ connection the way the Aspire client integration does.
/// </summary>
/// <remarks>
/// <para>
/// A stand-in for the <c>Aspire.RabbitMQ.Client</c> package, which does not restore on MovieDb's
/// build machines. It keeps that package's method name, parameters, configuration sections and
/// registrations (<see cref="IConnectionFactory"/> and <see cref="IConnection"/> singletons, a
/// <c>RabbitMQ.Client</c> health check, the RabbitMQ trace sources), so that switching to the
/// package means deleting the <c>RabbitMQ/</c> folder of MovieDb.Messaging and adding one package
/// reference. The rest of MovieDb.Messaging depends only on <see cref="IConnection"/>.
/// </para>
/// <para>
/// Connection and topology recovery are on: after a broker restart the connection, its channels,
/// the queues and consumers it declared come back by themselves.
/// </para>
/// </remarks>
public static class RabbitMQClientExtensions
{
    private const string DefaultConfigSectionName = "Aspire:RabbitMQ:Client";

    /// <summary>Name of the health check that reports on the connection.</summary>
    public const string HealthCheckName = "RabbitMQ.Client";

    /// <summary>
    /// Registers <see cref="IConnectionFactory"/> and one long-lived <see cref="IConnection"/> to the
    /// broker named by <c>ConnectionStrings:{connectionName}</c>, a health check and tracing.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="connectionName">The connection name, e.g. <c>messaging</c>.</param>
    /// <param name="configureSettings">Changes the settings after they are read from configuration.</param>
    /// <param name="configureConnectionFactory">Changes the connection factory before it is used.</param>
    public static void AddRabbitMQClient(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<RabbitMQClientSettings>? configureSettings = null,
        Action<ConnectionFactory>? configureConnectionFactory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionName);

        var configSection = builder.Configuration.GetSection(DefaultConfigSectionName);
        var namedConfigSection = configSection.GetSection(connectionName);

        var settings = new RabbitMQClientSettings();
        configSection.Bind(settings);
        namedConfigSection.Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            settings.ConnectionString = connectionString;
        }

        configureSettings?.Invoke(settings);

        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"RabbitMQ connection string is missing. Set 'ConnectionStrings:{connectionName}' (environment variable " +
                $"ConnectionStrings__{connectionName}) to an amqp:// URI, or '{DefaultConfigSectionName}:ConnectionString'.");
        }

        if (!Uri.TryCreate(settings.ConnectionString, UriKind.Absolute, out var uri) || (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            throw new InvalidOperationException(
                $"'ConnectionStrings:{connectionName}' must be an amqp:// or amqps:// URI, e.g. amqp://guest:guest@localhost:5672.");
        }

        builder.Services.AddSingleton<IConnectionFactory>(_ =>
        {
            var factory = new ConnectionFactory();
            configSection.GetSection("ConnectionFactory").Bind(factory);
            namedConfigSection.GetSection("ConnectionFactory").Bind(factory);

            // The connection string wins over the factory section, as in the Aspire integration.
            factory.Uri = uri;
            factory.ClientProvidedName ??= builder.Environment.ApplicationName;
            factory.AutomaticRecoveryEnabled = true;
            factory.TopologyRecoveryEnabled = true;

            configureConnectionFactory?.Invoke(factory);
            return factory;
        });

        builder.Services.AddSingleton<RabbitMQConnectionState>();
        builder.Services.AddSingleton(sp => Connect(sp, settings));

        if (!settings.DisableAutoActivation)
        {
            builder.Services.AddHostedService<ConnectionActivator>();
        }

        if (!settings.DisableHealthChecks)
        {
            builder.Services.AddHealthChecks().AddCheck<RabbitMQHealthCheck>(HealthCheckName);
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(MessagingTelemetry.MeterName));
        if (!settings.DisableTracing)
        {
            telemetry.WithTracing(tracing => tracing.AddSource(
                MessagingTelemetry.ActivitySourceName,
                RabbitMQActivitySource.PublisherSourceName,
                RabbitMQActivitySource.SubscriberSourceName));
        }
    }

    // Synchronous over asynchronous, like the Aspire integration: IConnection is resolved from DI.
    // MovieDb's own components resolve it on a background thread, so nothing waits on this at start-up.
    private static IConnection Connect(IServiceProvider services, RabbitMQClientSettings settings)
    {
        var factory = services.GetRequiredService<IConnectionFactory>();
        var state = services.GetRequiredService<RabbitMQConnectionState>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("MovieDb.Messaging.RabbitMQ");

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var connection = factory.CreateConnectionAsync(CancellationToken.None).GetAwaiter().GetResult();
                state.Connected(connection);
                logger.LogInformation("Connected to RabbitMQ at {Endpoint} as {ClientName}", connection.Endpoint, connection.ClientProvidedName);
                return connection;
            }
            catch (Exception ex) when (ex is BrokerUnreachableException or SocketException)
            {
                state.Failed(ex.InnerException?.Message ?? ex.Message);
                if (attempt >= settings.MaxConnectRetryCount)
                {
                    logger.LogError(ex, "Could not connect to RabbitMQ after {Attempts} attempts", attempt + 1);
                    throw;
                }

                var delay = TimeSpan.FromSeconds(Math.Pow(2, attempt));
                logger.LogWarning("RabbitMQ is unreachable ({Error}); retrying in {Delay}", ex.InnerException?.Message ?? ex.Message, delay);
                Thread.Sleep(delay);
            }
        }
    }

    private sealed class ConnectionActivator(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) =>
            Task.Run(() => services.GetRequiredService<IConnection>(), cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
