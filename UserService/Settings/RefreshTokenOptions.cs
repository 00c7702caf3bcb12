using System.ComponentModel.DataAnnotations;

namespace UserService.Settings;

/// <summary>Session settings (section <c>Sessions</c>).</summary>
public sealed class RefreshTokenOptions
{
    public const string SectionName = "Sessions";

    /// <summary>How long a refresh token stays valid; each rotation starts a new period. Default 14 days.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")]
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);
}
