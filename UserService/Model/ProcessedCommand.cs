namespace UserService.Model;

/// <summary>
/// A command the service has answered, by its request (message) id: the inbox that makes commands
/// idempotent. A redelivered or repeated command gets the recorded reply instead of running again.
/// </summary>
public sealed class ProcessedCommand
{
    /// <summary>How long replies are kept; a command redelivered later than this runs again.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    /// <summary>The request (message) id.</summary>
    public required string Id { get; set; }

    /// <summary>The message type, e.g. <c>users.register</c>.</summary>
    public required string Type { get; set; }

    /// <summary>SHA-256 of the command body with secrets masked: the same id with another body is refused.</summary>
    public required string Fingerprint { get; set; }

    /// <summary>The reply that was sent, as JSON.</summary>
    public required string Reply { get; set; }

    /// <summary>The account that sent the command, when it was sent on behalf of one: only it may read the outcome.</summary>
    public string? ActorId { get; set; }

    public DateTime At { get; set; }
}
