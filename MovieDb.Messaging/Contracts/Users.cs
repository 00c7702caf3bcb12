namespace MovieDb.Messaging.Contracts;

/// <summary>A user account as other services see it: never a password or token hash.</summary>
/// <param name="Id">The account id (a GUID string).</param>
/// <param name="UserName">The user name as registered.</param>
/// <param name="Email">The e-mail address.</param>
/// <param name="Roles">Roles, e.g. <c>user</c>, <c>admin</c>.</param>
/// <param name="CreatedAt">When the account was created.</param>
public sealed record UserDto(string Id, string UserName, string Email, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt);

/// <summary>Who asks, as the gateway authenticated them. The user service enforces what they may do.</summary>
/// <param name="UserId">The caller's account id.</param>
/// <param name="IsAdmin">Whether the caller has the <c>admin</c> role.</param>
public sealed record Actor(string UserId, bool IsAdmin);

/// <summary>Creates an account. Idempotent by message id: a repeat returns the account the first one created.</summary>
[Message("users.register")]
public sealed record RegisterUser(string UserName, string Email, string Password) : IRequest<UserDto>;

/// <summary>The outcome of an earlier <see cref="RegisterUser"/>, by its request (message) id.</summary>
[Message("users.registration-status", MessageKind.Query)]
public sealed record GetRegistrationStatus(string RequestId) : IRequest<RegistrationStatus>;

/// <summary>The state of a registration.</summary>
/// <param name="Status"><c>pending</c>, <c>succeeded</c> or <c>failed</c>.</param>
/// <param name="User">The account, once it exists.</param>
/// <param name="Problem">Why it failed.</param>
/// <param name="FailureStatus">How it failed (e.g. <see cref="ReplyStatus.Conflict"/>).</param>
public sealed record RegistrationStatus(string Status, UserDto? User = null, ReplyError? Problem = null, ReplyStatus? FailureStatus = null)
{
    /// <summary>Not processed yet (or unknown).</summary>
    public const string Pending = "pending";

    /// <summary>The account exists.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>The registration was refused or could not be processed.</summary>
    public const string Failed = "failed";
}

/// <summary>Checks a user name and password and opens a session (a new refresh-token family).</summary>
[Message("users.authenticate", MessageKind.Query)]
public sealed record AuthenticateUser(string UserName, string Password) : IRequest<UserSession>;

/// <summary>An authenticated user and the refresh token of their session.</summary>
/// <param name="User">The account.</param>
/// <param name="RefreshToken">The raw refresh token; the user service keeps only its hash.</param>
/// <param name="RefreshTokenExpiresAt">When the refresh token expires.</param>
public sealed record UserSession(UserDto User, string RefreshToken, DateTimeOffset RefreshTokenExpiresAt);

/// <summary>Reads one account.</summary>
[Message("users.get", MessageKind.Query)]
public sealed record GetUser(string UserId) : IRequest<UserDto>;

/// <summary>Reads a page of accounts, oldest first.</summary>
[Message("users.list", MessageKind.Query)]
public sealed record ListUsers(int Page, int PageSize) : IRequest<UserPage>;

/// <summary>A page of accounts.</summary>
public sealed record UserPage(IReadOnlyList<UserDto> Items, int Page, int PageSize, long TotalCount);

/// <summary>
/// Changes an account. Null fields stay as they are. A non-admin may change only their own e-mail
/// and password, and must give the current password to change it; only an admin may change roles.
/// </summary>
[Message("users.update")]
public sealed record UpdateUser(
    Actor Actor,
    string UserId,
    string? Email = null,
    string? NewPassword = null,
    string? CurrentPassword = null,
    IReadOnlyList<string>? Roles = null) : IRequest<UserDto>;

/// <summary>Deletes an account (admins; the bootstrap admin cannot be deleted) and publishes <see cref="UserDeleted"/>.</summary>
[Message("users.delete")]
public sealed record DeleteUser(Actor Actor, string UserId) : IRequest<Empty>;

/// <summary>Rotates a refresh token. Presenting a token that was already rotated revokes its whole family.</summary>
[Message("tokens.refresh", MessageKind.Query)]
public sealed record RefreshSession(string RefreshToken) : IRequest<UserSession>;

/// <summary>Revokes the family of a refresh token (sign-out).</summary>
[Message("tokens.revoke")]
public sealed record RevokeSession(string RefreshToken) : IRequest<Empty>;

/// <summary>Published when an account was created.</summary>
[Message("user.registered")]
public sealed record UserRegistered(string UserId, string UserName, DateTimeOffset OccurredAt) : IEvent;

/// <summary>Published when an account was deleted. May arrive more than once: handle it idempotently.</summary>
[Message("user.deleted")]
public sealed record UserDeleted(string UserId, DateTimeOffset OccurredAt) : IEvent;
