using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace MovieDb.Messaging;

/// <summary>
/// Gets the <see cref="IConnection"/> that <c>AddRabbitMQClient</c> (Aspire.RabbitMQ.Client)
/// registers, without ever blocking a caller on it. That registration connects synchronously inside
/// DI resolution, retrying with back-off (<c>MaxConnectRetryCount</c>) before it gives up, so the
/// connection is resolved on the thread pool, once at a time; a failed resolution is tried again
/// by the next caller. Once made, the connection recovers by itself (automatic recovery).
/// </summary>
internal sealed class BrokerConnection(IServiceProvider services, ILogger<BrokerConnection> logger)
{
    private readonly Lock _gate = new();
    private Task<IConnection>? _connecting;

    /// <summary>The connection once it has been made; it may be closed while it recovers.</summary>
    public IConnection? Current { get; private set; }

    /// <summary>True when a connection exists and is open right now.</summary>
    public bool IsOpen => Current?.IsOpen == true;

    /// <summary>Why the last attempt to connect failed, while there is no connection.</summary>
    public string? LastError { get; private set; }

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (Current is { } current)
        {
            return current;
        }

        Task<IConnection> connecting;
        lock (_gate)
        {
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = Task.Run(() => services.GetRequiredService<IConnection>(), CancellationToken.None);
            }

            connecting = _connecting;
        }

        try
        {
            var connection = await connecting.WaitAsync(cancellationToken);
            if (Current is null)
            {
                logger.LogInformation("Connected to RabbitMQ at {Endpoint}", connection.Endpoint);
            }

            Current = connection;
            LastError = null;
            return connection;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LastError = ex.InnerException?.Message ?? ex.Message;
            logger.LogWarning("No RabbitMQ connection yet: {Error}", LastError);
            throw;
        }
    }

    /// <summary>
    /// Wraps the <c>RabbitMQ.Client</c> health check of Aspire.RabbitMQ.Client, which resolves the
    /// connection itself and so would hold <c>/health</c> for the whole connect-and-retry time while
    /// the broker is away: until this class has a connection, the check answers at once with the
    /// last connection error; afterwards the package's own check runs.
    /// </summary>
    internal static void DecorateHealthCheck(HealthCheckServiceOptions options)
    {
        foreach (var registration in options.Registrations.Where(r => r.Name == Microsoft.Extensions.Hosting.MessagingHostingExtensions.RabbitMQHealthCheckName))
        {
            var original = registration.Factory;
            registration.Factory = sp =>
            {
                var broker = sp.GetRequiredService<BrokerConnection>();
                return broker.Current is null ? new NotConnectedHealthCheck(broker.LastError) : original(sp);
            };
        }
    }

    private sealed class NotConnectedHealthCheck(string? lastError) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                lastError is null ? "Not connected to RabbitMQ yet." : $"Cannot connect to RabbitMQ: {lastError}"));
    }
}
