using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MovieDb.Messaging.Diagnostics;

/// <summary>The trace source and meter of MovieDb.Messaging, both named after the library.</summary>
public static class MessagingTelemetry
{
    /// <summary>Name of the <see cref="ActivitySource"/>: spans for sends, handling and events.</summary>
    public const string ActivitySourceName = "MovieDb.Messaging";

    /// <summary>Name of the <see cref="Meter"/>.</summary>
    public const string MeterName = "MovieDb.Messaging";

    internal static readonly ActivitySource ActivitySource = new(ActivitySourceName);
}

/// <summary>The instruments of the <c>MovieDb.Messaging</c> meter.</summary>
internal sealed class MessagingMetrics
{
    public MessagingMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MessagingTelemetry.MeterName);
        RequestsSent = meter.CreateCounter<long>("moviedb.messaging.requests.sent", "{request}", "Requests published and confirmed by the broker.");
        RequestsFailed = meter.CreateCounter<long>("moviedb.messaging.requests.failed", "{request}", "Requests that could not be published: broker unavailable or not confirmed.");
        RepliesReceived = meter.CreateCounter<long>("moviedb.messaging.replies.received", "{reply}", "Replies that completed a waiting request.");
        RequestsTimedOut = meter.CreateCounter<long>("moviedb.messaging.requests.timed_out", "{request}", "Confirmed requests whose reply did not come in time.");
        RepliesRefused = meter.CreateCounter<long>("moviedb.messaging.replies.refused", "{reply}", "Replies without a valid signature of the handling service; dropped.");
        LateReplies = meter.CreateCounter<long>("moviedb.messaging.replies.late", "{reply}", "Replies that arrived after their request had timed out; dropped.");
        RequestDuration = meter.CreateHistogram<double>("moviedb.messaging.request.duration", "s", "Round trip from publish to reply, as the requester sees it.");
        DeadLettered = meter.CreateCounter<long>("moviedb.messaging.messages.dead_lettered", "{message}", "Messages moved to a dead-letter queue.");
        Expired = meter.CreateCounter<long>("moviedb.messaging.messages.expired", "{message}", "Queries dropped unprocessed because their caller had stopped waiting.");
        DeadLetterFailures = meter.CreateCounter<long>("moviedb.messaging.messages.dead_letter_failures", "{message}", "Dead-letter publishes that failed; the message went back to its queue for another try.");
        EventsReplayed = meter.CreateCounter<long>("moviedb.messaging.events.replayed", "{event}", "Parked events re-published to the events exchange when a new durable subscription queue was declared.");
        Retried = meter.CreateCounter<long>("moviedb.messaging.messages.retried", "{message}", "Failed messages returned to their queue for another attempt.");
        HandlerDuration = meter.CreateHistogram<double>("moviedb.messaging.handler.duration", "s", "Time spent handling one message.");
    }

    public Counter<long> RequestsSent { get; }

    public Counter<long> RequestsFailed { get; }

    public Counter<long> RepliesReceived { get; }

    public Counter<long> RequestsTimedOut { get; }

    public Counter<long> LateReplies { get; }

    /// <summary>Replies without a valid signature; dropped.</summary>
    public Counter<long> RepliesRefused { get; }

    public Histogram<double> RequestDuration { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> Expired { get; }

    public Counter<long> DeadLetterFailures { get; }

    public Counter<long> EventsReplayed { get; }

    public Counter<long> Retried { get; }

    public Histogram<double> HandlerDuration { get; }
}
