using System.ComponentModel.DataAnnotations;

namespace MovieDb.Messaging;

/// <summary>
/// Knobs of MovieDb's messaging, bound from the <c>Messaging</c> configuration section.
/// <see cref="MaxDeliveries"/> is also a queue argument: every service must use the same value.
/// </summary>
public sealed class MessagingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Messaging";

    /// <summary>How long a caller waits for a reply (and how long a query lives in the queue). Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a publish waits for the broker's confirm before it counts as not confirmed. Default 5 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Deliveries of one command before it is dead-lettered: handler failures, and crashes while it
    /// was being handled (the quorum queue's <c>x-delivery-limit</c>). Default 5. Queries are not
    /// retried: a failed query is dead-lettered at once.
    /// </summary>
    [Range(1, 100)]
    public int MaxDeliveries { get; set; } = 5;

    /// <summary>Unacknowledged messages a consumer holds at once. Default 64.</summary>
    [Range(1, 1000)]
    public ushort PrefetchCount { get; set; } = 64;

    /// <summary>
    /// Messages a consumer handles at the same time. Default 16: handlers mostly wait (for the store,
    /// for the reply's confirm), so more than the core count keeps the CPU busy (bench/RESULTS.md).
    /// </summary>
    [Range(1, 256)]
    public ushort ConsumerConcurrency { get; set; } = 16;

    /// <summary>Pause before a failed message goes back to its queue, times the attempt number. Default 200 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// The key requests, their replies and broadcasts are signed and checked with
    /// (<see cref="MessageSignatures"/>; at least 32 characters), held by the services that exchange
    /// them only. Unset, they go unsigned and are taken unsigned; MovieDb's gateway and user service
    /// refuse to start without it. Durable events have a key of their own (<see cref="EventSigningKey"/>).
    /// </summary>
    [MinLength(MessageSignatures.MinimumKeyLength)]
    public string? SigningKey { get; set; }

    /// <summary>
    /// The key durable events are signed and checked with: the publisher and every subscriber hold it,
    /// and it signs nothing else, so that a subscriber can neither make up a request nor a reply. A
    /// durable subscription that holds it dead-letters an event without its valid signature
    /// (<c>unauthenticated</c>); unset, events go unsigned and are taken unsigned. MovieDb's user,
    /// movie and notification services refuse to start without it.
    /// </summary>
    [MinLength(MessageSignatures.MinimumKeyLength)]
    public string? EventSigningKey { get; set; }

    /// <summary>
    /// How long a signed command may wait in its queue before it is refused as too old. Default and
    /// most 6 days: shorter than a handling service remembers the commands it carried out (the user
    /// service: 7 days), so that a copy sent again within it is answered from the record of the first
    /// and never carried out twice.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "6.00:00:00")]
    public TimeSpan SignedCommandLifetime { get; set; } = TimeSpan.FromDays(6);

    /// <summary>How long a signed query is accepted after it was signed (it also carries its own deadline): 10 minutes.</summary>
    internal static readonly TimeSpan SignedQueryLifetime = TimeSpan.FromMinutes(10);

    /// <summary>The key's bytes, or null when messages are not signed.</summary>
    internal byte[]? SigningKeyBytes => string.IsNullOrEmpty(SigningKey) ? null : System.Text.Encoding.UTF8.GetBytes(SigningKey);

    /// <summary>The event key's bytes, or null when durable events are not signed.</summary>
    internal byte[]? EventSigningKeyBytes => string.IsNullOrEmpty(EventSigningKey) ? null : System.Text.Encoding.UTF8.GetBytes(EventSigningKey);
}
