using System.ComponentModel.DataAnnotations;

namespace Gateway.Settings;

/// <summary>Access-token settings (section <c>Jwt</c>).</summary>
public sealed class JwtOptions
{
    public const string SectionName = "Jwt";

    /// <summary>The HS256 key, used as UTF-8 bytes: at least 32 bytes (256 bits); 64 random characters recommended.</summary>
    public string? SigningKey { get; set; }

    [Required]
    public string Issuer { get; set; } = "moviedb";

    [Required]
    public string Audience { get; set; } = "moviedb-api";

    /// <summary>Access-token lifetime. Default 15 minutes.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "01:00:00")]
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Tolerated clock difference when validating lifetimes. Default 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the gateway trusts what it knows of an account's roles and security stamp before it
    /// asks the user service again. Changes arrive at once as events; this bounds how stale a missed
    /// event can leave an instance. Default 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:15:00")]
    public TimeSpan SecurityStateRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}
