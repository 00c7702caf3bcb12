using RabbitMQ.Client;

namespace MovieDb.Messaging;

/// <summary>
/// Decides when a consuming channel must be replaced. After a connection failure, automatic
/// recovery reopens the channel with its queues and consumers, so a closed channel on a closed (or
/// recovering) connection is left alone. Only a channel that stays closed on an open connection — a
/// channel error, which recovery does not repair — needs a new one; "stays" means on two checks in a
/// row, since the connection reopens a moment before its channels do.
/// </summary>
internal sealed class ChannelWatch
{
    private int _closedChecks;

    /// <summary>True when a new channel is needed now (there is none, or it stayed closed on an open connection).</summary>
    public bool NeedsNewChannel(IChannel? channel, IConnection connection)
    {
        if (channel is { IsOpen: true })
        {
            _closedChecks = 0;
            return false;
        }

        if (channel is not null && (!connection.IsOpen || ++_closedChecks < 2))
        {
            return false;
        }

        _closedChecks = 0;
        return true;
    }
}
