using System.ComponentModel.DataAnnotations;

namespace NotificationService.Settings;

/// <summary>What the mails say and how hard sending is tried (section <c>Notifications</c>).</summary>
public sealed class NotificationOptions
{
    public const string SectionName = "Notifications";

    /// <summary>
    /// The activation link: the web UI's activation page. <c>{token}</c> is replaced by the URL-encoded
    /// token; without it, <c>token=…</c> is added to the query. Default
    /// <c>http://localhost:5090/activate?token={token}</c> (the web UI under the AppHost and run-local).
    /// </summary>
    [Required]
    public string ActivationUrl { get; set; } = "http://localhost:5090/activate?token={token}";

    /// <summary>
    /// The password-reset link: the web UI's reset page, <c>{token}</c> as in <see cref="ActivationUrl"/>.
    /// Default <c>http://localhost:5090/reset-password?token={token}</c>.
    /// </summary>
    [Required]
    public string PasswordResetUrl { get; set; } = "http://localhost:5090/reset-password?token={token}";

    /// <summary>The link template of a mail of <paramref name="kind"/>.</summary>
    public string LinkTemplate(Model.AccountMailKind kind) => kind == Model.AccountMailKind.PasswordReset ? PasswordResetUrl : ActivationUrl;

    /// <summary>The sender, e.g. <c>MovieDb &lt;no-reply@example.com&gt;</c>; a relay may accept only addresses of verified domains.</summary>
    [Required]
    public string From { get; set; } = "MovieDb <no-reply@moviedb.local>";

    /// <summary>
    /// Where the record of sent mails is kept (a LiteDB connection string), so that a repeated event
    /// does not send its mail again. Default: a file in the temporary folder, shared by the processes
    /// of this machine.
    /// </summary>
    [Required]
    public string SentMailStore { get; set; } = $"Filename={Path.Combine(Path.GetTempPath(), "moviedb-notificationservice", "sent-mail.db")};Connection=shared";

    /// <summary>
    /// How long one delivery of an event keeps trying to hand its mail to the SMTP server while the
    /// server fails as a whole (no connection, time-outs, TLS or sign-in refused, 4xx answers): such a
    /// failure says nothing about this mail. Default 20 minutes, inside the broker's consumer time-out
    /// (30 minutes) even when the last attempt waits out <see cref="SmtpTimeout"/>. After it the event
    /// goes back to its queue, and after <c>Messaging:MaxDeliveries</c> deliveries to its dead-letter
    /// queue: about 100 minutes of outage with the defaults. A mail the server refuses for good (5xx
    /// for its sender, recipient or content) is dead-lettered at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:25:00")]
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>The pause before the second attempt, doubled for each further one (with jitter). Default 2 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest pause between two attempts. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one SMTP command may take. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan SmtpTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
