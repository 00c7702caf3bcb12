using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace MovieDb.Messaging;

/// <summary>
/// Gets the <see cref="IConnection"/> registered by <c>AddRabbitMQClient</c> without blocking the
/// caller: the registration connects synchronously (as the Aspire one does), so it is resolved on
/// the thread pool, once; a failed attempt is retried by the next caller.
/// </summary>
internal sealed class BrokerConnection(IServiceProvider services, ILogger<BrokerConnection> logger)
{
    private readonly Lock _gate = new();
    private Task<IConnection>? _connecting;

    /// <summary>The connection once it has been made; it may be closed while it recovers.</summary>
    public IConnection? Current { get; private set; }

    /// <summary>True when a connection exists and is open right now.</summary>
    public bool IsOpen => Current?.IsOpen == true;

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
            Current = connection;
            return connection;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogWarning("No RabbitMQ connection yet: {Error}", ex.Message);
            throw;
        }
    }
}
