using System.ComponentModel.DataAnnotations;

namespace MovieDb.ServiceDefaults;

/// <summary>
/// The identity tokens in which the gateway vouches for the caller to the services behind it (section
/// <c>GatewayIdentity</c>): the gateway signs them, the movie service checks them, with these settings.
/// </summary>
public sealed class GatewayIdentityOptions
{
    public const string SectionName = "GatewayIdentity";

    /// <summary>HS256 key shared with the movie service only (not the access-token key: the movie service must not be able to mint those).</summary>
    public string? SigningKey { get; set; }

    [Required]
    public string Issuer { get; set; } = "moviedb-gateway";

    [Required]
    public string Audience { get; set; } = "movieservice";

    /// <summary>How long one identity token is valid. Default 2 minutes; a token is reused for half of it.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "00:15:00")]
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(2);
}
