using RabbitMQ.Client;

namespace MovieDb.Messaging.RabbitMQ;

/// <summary>
/// Remembers the connection once it exists, so that the health check can report on it without
/// resolving (and so waiting for) the connection itself.
/// </summary>
internal sealed class RabbitMQConnectionState
{
    private volatile IConnection? _connection;
    private volatile string? _lastError;

    public IConnection? Connection => _connection;

    public string? LastError => _lastError;

    public void Connected(IConnection connection)
    {
        _connection = connection;
        _lastError = null;
    }

    public void Failed(string error) => _lastError = error;
}
