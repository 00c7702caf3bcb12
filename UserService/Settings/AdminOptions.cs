using System.ComponentModel.DataAnnotations;

namespace UserService.Settings;

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
