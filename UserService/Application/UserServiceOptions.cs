using System.ComponentModel.DataAnnotations;

namespace UserService.Application;

/// <summary>The bootstrap admin account, created at start-up when it does not exist (section <c>Admin</c>).</summary>
public sealed class AdminOptions
{
    public const string SectionName = "Admin";

    [Required]
    public string UserName { get; set; } = "admin";

    [Required]
    public string Email { get; set; } = "admin@moviedb.local";

    /// <summary>Required outside Development; in Development a generated one is used and logged when it is missing.</summary>
    public string? Password { get; set; }
}

/// <summary>Session settings (section <c>Sessions</c>).</summary>
public sealed class RefreshTokenOptions
{
    public const string SectionName = "Sessions";

    /// <summary>How long a refresh token stays valid; each rotation starts a new period. Default 14 days.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);
}

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
    /// A new activation link is sent to an account at most this often, whoever asks (rate limits count
    /// per client address; this keeps many addresses from flooding one mailbox). Default 1 minute.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ActivationEmailInterval { get; set; } = TimeSpan.FromMinutes(1);
}
