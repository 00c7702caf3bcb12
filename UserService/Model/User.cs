using MovieDb.Messaging.Contracts;

namespace UserService.Model;

/// <summary>An account as the user service stores it. The password hash never leaves this service.</summary>
public sealed class User
{
    public required string Id { get; set; }

    public required string UserName { get; set; }

    /// <summary>Upper-case invariant form; unique.</summary>
    public required string NormalizedUserName { get; set; }

    public required string Email { get; set; }

    /// <summary>Upper-case invariant form; unique.</summary>
    public required string NormalizedEmail { get; set; }

    public required string PasswordHash { get; set; }

    public List<string> Roles { get; set; } = [];

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>The id of the <c>users.register</c> message that created the account; unique, so a redelivery cannot create a second one.</summary>
    public required string RegistrationRequestId { get; set; }

    /// <summary>The account created at start-up from <c>Admin:*</c>; it cannot be deleted.</summary>
    public bool IsBootstrapAdmin { get; set; }

    public bool IsAdmin => Roles.Contains(Role.Admin);

    /// <summary>The current time at the precision both stores keep (milliseconds), so replies match what is read back later.</summary>
    public static DateTime Timestamp(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    public UserDto ToDto() => new(Id, UserName, Email, [.. Roles], new DateTimeOffset(DateTime.SpecifyKind(CreatedAt.ToUniversalTime(), DateTimeKind.Utc)));
}

public static class Role
{
    public const string User = "user";
    public const string Admin = "admin";
}

/// <summary>
/// A command the service has answered, by its request (message) id: the inbox that makes commands
/// idempotent. A redelivered or repeated command gets the recorded reply instead of running again.
/// </summary>
public sealed class ProcessedCommand
{
    /// <summary>How long replies are kept; a command redelivered later than this runs again.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    /// <summary>The request (message) id.</summary>
    public required string Id { get; set; }

    /// <summary>The message type, e.g. <c>users.register</c>.</summary>
    public required string Type { get; set; }

    /// <summary>SHA-256 of the command body with secrets masked: the same id with another body is refused.</summary>
    public required string Fingerprint { get; set; }

    /// <summary>The reply that was sent, as JSON.</summary>
    public required string Reply { get; set; }

    public DateTime At { get; set; }
}

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

public static class RefreshTokenStatus
{
    /// <summary>May be used once.</summary>
    public const string Active = "active";

    /// <summary>Rotated: presenting it again is reuse.</summary>
    public const string Used = "used";

    /// <summary>Signed out, or its family was revoked after reuse.</summary>
    public const string Revoked = "revoked";
}
