using System.ComponentModel.DataAnnotations;

namespace Gateway.Settings;

/// <summary>Rate limits (section <c>RateLimiting</c>). Every public route has one.</summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Sign-in attempts per client address. Default 20 a minute: a shared office address signs in more than one person.</summary>
    public WindowLimit SignIn { get; set; } = new() { PermitLimit = 20, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Registrations (and activation e-mails) per client address. Default 10 a minute.</summary>
    public WindowLimit Registration { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Password-reset requests per client address. Default 5 a minute: a person needs one or two; the
    /// mails one account gets are bounded apart, by a doubling wait in the user service. (Confirmations
    /// count as <see cref="Anonymous"/>: a token works once, so they cost a password hash at most once each.)
    /// </summary>
    public WindowLimit PasswordResets { get; set; } = new() { PermitLimit = 5, Window = TimeSpan.FromMinutes(1) };

    /// <summary>
    /// Token refreshes and sign-outs per client address. Default 600 a minute: a refresh token is
    /// unguessable, so this only stops floods — people behind one address must never be logged out by it.
    /// </summary>
    public WindowLimit Sessions { get; set; } = new() { PermitLimit = 600, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Other anonymous calls that reach the user service (status reads), per client address: bursts of 20, 2 a second.</summary>
    public BucketLimit Anonymous { get; set; } = new() { TokenLimit = 20, TokensPerSecond = 2 };

    /// <summary>Everything a signed-in user does, per user: bursts of 200, refilled at 100 per second.</summary>
    public BucketLimit Api { get; set; } = new() { TokenLimit = 200, TokensPerSecond = 100 };

    /// <summary>Every request, per client address, before any other limit: bursts of 1000, 500 a second.</summary>
    public BucketLimit PerAddress { get; set; } = new() { TokenLimit = 1000, TokensPerSecond = 500 };

    /// <summary>
    /// Account changes that make the user service check or hash a password (a new password, or a new
    /// e-mail address with the current password), per signed-in user: each costs the user service tens
    /// of milliseconds of CPU, and someone who knows their own password is never held up by the sign-in
    /// throttle. Default 10 a minute.
    /// </summary>
    public WindowLimit PasswordChanges { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Failed sign-ins (and other password checks) of one account, from any address (<see cref="Limits.SignInThrottle"/>).</summary>
    public FailureLimit SignInFailures { get; set; } = new();

    public sealed class WindowLimit
    {
        [Range(1, int.MaxValue)]
        public int PermitLimit { get; set; }

        [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
        public TimeSpan Window { get; set; }
    }

    public sealed class BucketLimit
    {
        [Range(1, int.MaxValue)]
        public int TokenLimit { get; set; }

        [Range(1, int.MaxValue)]
        public int TokensPerSecond { get; set; }
    }

    public sealed class FailureLimit
    {
        /// <summary>Sign-in attempts without a success an account takes before each further attempt has to wait. Default 5.</summary>
        [Range(1, 1000)]
        public int FreeAttempts { get; set; } = 5;

        /// <summary>The longest wait: the doubling delay stops here, so a victim is never locked out for longer. Default 1 minute.</summary>
        [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
        public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(1);

        /// <summary>Failures are forgotten after this long without one. Default 15 minutes.</summary>
        [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
        public TimeSpan ForgetAfter { get; set; } = TimeSpan.FromMinutes(15);

        /// <summary>How long a device token (<see cref="Auth.DeviceTokens"/>) keeps its client's attempts apart from everyone else's. Default 90 days.</summary>
        [Range(typeof(TimeSpan), "00:01:00", "400.00:00:00")]
        public TimeSpan DeviceTokenLifetime { get; set; } = TimeSpan.FromDays(90);
    }
}
