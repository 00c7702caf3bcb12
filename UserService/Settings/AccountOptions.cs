using System.ComponentModel.DataAnnotations;

namespace UserService.Settings;

/// <summary>Account rules (section <c>Accounts</c>).</summary>
public sealed class AccountOptions
{
    public const string SectionName = "Accounts";

    /// <summary>
    /// User names nobody may register, nor anything that looks like them (compared by skeleton);
    /// the bootstrap admin's name is always reserved.
    /// </summary>
    public IReadOnlyList<string> ReservedUserNames { get; set; } = ["admin", "administrator", "root", "system", "moviedb", "support", "security"];

    /// <summary>How often expired sessions, old command records and tombstones are purged. Default 1 hour.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Whether a new account must be activated through the link mailed to it before it can sign in.
    /// Default true. Accounts that exist already are not affected either way.
    /// </summary>
    public bool RequireActivation { get; set; } = true;

    /// <summary>How long an activation link works. Default 48 hours.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan ActivationTokenLifetime { get; set; } = TimeSpan.FromHours(48);

    /// <summary>
    /// The wait before the first new activation link; each further link waits twice as long as the one
    /// before (1 minute, 2, 4, … up to a day), whoever asks: rate limits count per client address, and
    /// this keeps many addresses from flooding one mailbox. Password-reset links wait the same way,
    /// counted apart (and counted afresh after a reset, or a day without a link). Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ActivationEmailInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a password-reset link works. Default 1 hour: whoever holds the link can set the
    /// password, so it should not wait in a mailbox for long. A newer link replaces it at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan PasswordResetTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long an account that was never activated is kept, counted from its registration: then it
    /// is removed and its user name and e-mail address are free again, so that nobody holds another
    /// person's address by registering it. No link works past it and no new one is sent. At least
    /// <see cref="ActivationTokenLifetime"/>. Default 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan PendingAccountLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The longest wait between two activation links of one account.</summary>
    public static readonly TimeSpan MaxActivationEmailInterval = TimeSpan.FromDays(1);

    /// <summary>
    /// The wait before another link after <paramref name="linksSent"/> links (the registration's
    /// included): <see cref="ActivationEmailInterval"/>, doubled for every link after the first, at most a day.
    /// </summary>
    public TimeSpan ActivationEmailWait(int linksSent)
    {
        var doublings = Math.Clamp(linksSent - 1, 0, 20);
        var wait = ActivationEmailInterval * Math.Pow(2, doublings);
        return wait < MaxActivationEmailInterval ? wait : MaxActivationEmailInterval;
    }
}
