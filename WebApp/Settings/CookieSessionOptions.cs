namespace WebApp.Settings;

/// <summary>The sign-in session (section <c>Session</c>).</summary>
public sealed class CookieSessionOptions
{
    public const string SectionName = "Session";

    /// <summary>How long a session lasts without activity (the cookie slides). Default 8 hours.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>Refresh the access token when it expires within this time. Default 2 minutes.</summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(2);
}
