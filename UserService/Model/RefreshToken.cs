namespace UserService.Model;

/// <summary>A refresh token, stored only as the SHA-256 hash of its value.</summary>
public sealed class RefreshToken
{
    /// <summary>Hex SHA-256 of the raw token.</summary>
    public required string Id { get; set; }

    /// <summary>All tokens issued by rotation from one sign-in share a family; reuse revokes it whole.</summary>
    public required string FamilyId { get; set; }

    public required string UserId { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }

    /// <summary><see cref="RefreshTokenStatus"/>.</summary>
    public required string Status { get; set; }
}
