using RabbitMQ.Client;

namespace MovieDb.Messaging;

/// <summary>
/// A channel that many callers share, by default with publisher confirms: every publish awaits the
/// broker's confirm. If the broker closes the channel (a channel error) while the connection stays
/// up, the next caller gets a new one; after a connection failure, automatic recovery reopens it.
/// </summary>
/// <remarks>
/// Made with <paramref name="confirms"/> false, the same shared channel without confirms: a publish
/// returns once it is queued for the connection, ahead of anything published after it (the replies
/// to queries, whose loss costs their caller a 504: docs/reliability.md).
/// </remarks>
internal sealed class SharedChannel(BrokerConnection broker, bool confirms = true) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;

    public async ValueTask<IChannel> GetAsync(CancellationToken cancellationToken)
    {
        var channel = _channel;
        if (channel is { IsOpen: true })
        {
            return channel;
        }

        var connection = broker.Current;
        if (connection is not { IsOpen: true })
        {
            throw new BrokerUnavailableException("The connection to RabbitMQ is not open.");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_channel is { IsOpen: true } existing)
            {
                return existing;
            }

            if (_channel is not null)
            {
                await _channel.DisposeAsync();
            }

            // With confirms, tracking on: BasicPublishAsync returns only when the broker confirmed,
            // and throws when it refused or returned the message.
            _channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(
                    publisherConfirmationsEnabled: confirms,
                    publisherConfirmationTrackingEnabled: confirms,
                    outstandingPublisherConfirmationsRateLimiter: confirms ? new ThrottlingRateLimiter(1024) : null,
                    consumerDispatchConcurrency: 1),
                cancellationToken);
            return _channel;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stops handing out <paramref name="channel"/> if it is still the current one, and closes it:
    /// the next caller gets a new channel. For a channel the broker may treat differently after a
    /// failure, while the connection itself is fine.
    /// </summary>
    public async ValueTask RetireAsync(IChannel channel)
    {
        await _gate.WaitAsync();
        try
        {
            if (!ReferenceEquals(_channel, channel))
            {
                return;
            }

            _channel = null;
        }
        finally
        {
            _gate.Release();
        }

        try
        {
            await channel.DisposeAsync();
        }
        catch (Exception ex) when (ex is RabbitMQ.Client.Exceptions.RabbitMQClientException or IOException or ObjectDisposedException)
        {
            // Closing a channel that already failed may fail too; it is gone either way.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _channel.DisposeQuietlyAsync();
        _gate.Dispose();
    }
}

internal static class ChannelDisposal
{
    /// <summary>
    /// Disposes a channel at shutdown, when its connection may already be gone with the host's
    /// services: closing a channel of a disposed connection has nothing left to do.
    /// </summary>
    public static async ValueTask DisposeQuietlyAsync(this IChannel? channel)
    {
        try
        {
            if (channel is not null)
            {
                await channel.DisposeAsync();
            }
        }
        catch (ObjectDisposedException)
        {
        }
    }
}

/// <summary>The broker cannot be reached right now; nothing was published.</summary>
public sealed class BrokerUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BrokerUnavailableException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public BrokerUnavailableException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public BrokerUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
