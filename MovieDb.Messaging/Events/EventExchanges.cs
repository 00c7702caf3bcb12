using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MovieDb.Messaging.Events;

/// <summary>Declares the events exchange the way publishers and subscribers need it.</summary>
internal static partial class EventExchanges
{
    /// <summary>
    /// Declares <see cref="Topology.EventsExchange"/> with its alternate exchange, on a channel of its
    /// own: a broker that has the exchange from a MovieDb without the alternate exchange answers 406
    /// and closes the channel, and that must not take a consumer's or publisher's channel with it.
    /// In that case the existing exchange is used as it is (events keep flowing to the queues bound to
    /// it; only the parking of unrouted ones is missing) and the log says what an operator must do.
    /// Failing instead would stop every event in a running system over a missing safety net.
    /// </summary>
    public static async Task DeclareEventsExchangeAsync(IConnection connection, ILogger logger, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await Topology.DeclareUnroutedEventsAsync(channel, cancellationToken);
        try
        {
            await Topology.DeclareEventsExchangeAsync(channel, cancellationToken);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 406)
        {
            LogExchangeWithoutAlternate(logger, Topology.EventsExchange, Topology.UnroutedEventsExchange, ex.ShutdownReason.ReplyText);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message =
        "Exchange {Exchange} exists with other arguments than this MovieDb declares ({Reason}); using it as it is. " +
        "If it lacks the alternate exchange, events that no queue receives are DROPPED instead of parked. " +
        "Fix it now without downtime by a policy: rabbitmqctl set_policy -p <vhost> --apply-to exchanges moviedb-events-ae '^moviedb[.]events$' '{{\"alternate-exchange\":\"{AlternateExchange}\"}}' " +
        "(this message then stays, the declared arguments still differ); or, in a maintenance window, stop the services, delete the exchange and start the subscribing services before the publishing ones. See docs/reliability.md.")]
    private static partial void LogExchangeWithoutAlternate(ILogger logger, string exchange, string alternateExchange, string reason);
}
