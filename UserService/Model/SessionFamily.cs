namespace UserService.Model;

/// <summary>
/// One sign-in and every refresh token rotated from it. Whether a session is alive is decided here,
/// by one document: a revocation is one atomic write, and a token is honoured only while its family
/// is active and was opened under the account's current security stamp — so a rotation racing a
/// revocation, a reuse or a password change can never leave a live token behind.
/// </summary>
public sealed class SessionFamily
{
    public required string Id { get; set; }

    public required string UserId { get; set; }

    /// <summary>The account's security stamp when the session was opened.</summary>
    public required string SecurityStamp { get; set; }

    /// <summary><see cref="SessionFamilyStatus"/>.</summary>
    public required string Status { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>When the newest token of the family expires; the family is purged after it.</summary>
    public DateTime ExpiresAt { get; set; }
}
