using MovieDb.Messaging.Contracts;

namespace UserService.Contracts;

/// <summary>A user account as other services see it: never a password or token hash.</summary>
/// <param name="Id">The account id (a GUID string).</param>
/// <param name="UserName">The user name as registered.</param>
/// <param name="Email">The e-mail address.</param>
/// <param name="Roles">Roles, e.g. <c>user</c>, <c>admin</c>.</param>
/// <param name="CreatedAt">When the account was created.</param>
public sealed record UserDto(string Id, string UserName, string Email, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt);

/// <summary>
/// Who asks, as the gateway authenticated them (and signed: MovieDb.Messaging's MessageSignatures).
/// The user service trusts neither the gateway's view nor the broker: it loads the account, requires
/// its current security stamp (a role or password change, a deletion or a sign-out everywhere changes
/// it) and decides on the account's roles now. Only the stamp's hash travels: the stamp itself never
/// leaves the user service.
/// </summary>
/// <param name="UserId">The caller's account id.</param>
/// <param name="StampHash">The SHA-256 (hex) of the security stamp the caller's access token was issued with.</param>
public sealed record Actor(string UserId, string StampHash);

/// <summary>Creates an account. Idempotent by message id: a repeat returns the account the first one created.</summary>
[Message("users.register")]
public sealed record RegisterUser(string UserName, string Email, [property: Secret] string Password) : IRequest<UserDto>;

/// <summary>The outcome of an earlier <see cref="RegisterUser"/>, by its request (message) id.</summary>
[Message("users.registration-status", MessageKind.Query)]
public sealed record GetRegistrationStatus(string RequestId) : IRequest<CommandStatus>;

/// <summary>
/// The outcome of an earlier command of <paramref name="Actor"/> (update, delete, sign-out), by its
/// request id. A command of another account is reported as pending: its existence is not revealed.
/// </summary>
[Message("users.command-status", MessageKind.Query)]
public sealed record GetCommandStatus(Actor Actor, string RequestId) : IRequest<CommandStatus>;

/// <summary>The state of a command.</summary>
/// <param name="Status"><c>pending</c>, <c>succeeded</c> or <c>failed</c>.</param>
/// <param name="User">The account, when the command answers with one.</param>
/// <param name="Problem">Why it failed.</param>
/// <param name="FailureStatus">How it failed (e.g. <see cref="ReplyStatus.Conflict"/>).</param>
public sealed record CommandStatus(string Status, UserDto? User = null, ReplyError? Problem = null, ReplyStatus? FailureStatus = null)
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
public sealed record AuthenticateUser(string UserName, [property: Secret] string Password) : IRequest<UserSession>;

/// <summary>An authenticated user and the refresh token of their session.</summary>
/// <param name="User">The account.</param>
/// <param name="RefreshToken">The raw refresh token; the user service keeps only its hash.</param>
/// <param name="RefreshTokenExpiresAt">When the refresh token expires.</param>
/// <param name="Security">The account's rights now (the stamp as its hash, which access tokens carry), for the gateway's cache.</param>
public sealed record UserSession(UserDto User, [property: Secret] string RefreshToken, DateTimeOffset RefreshTokenExpiresAt, SecurityState Security);

/// <summary>Reads one account: the caller's own, or anyone's for an admin.</summary>
[Message("users.get", MessageKind.Query)]
public sealed record GetUser(Actor Actor, string UserId) : IRequest<UserDto>;

/// <summary>Reads a page of accounts, oldest first (admins).</summary>
[Message("users.list", MessageKind.Query)]
public sealed record ListUsers(Actor Actor, int Page, int PageSize) : IRequest<UserPage>;

/// <summary>
/// What decides an account's rights now: its security stamp and roles. The gateway asks when its
/// cache (kept current by <see cref="UserSecurityChanged"/>) has nothing recent; not found means deleted.
/// </summary>
[Message("users.security-state", MessageKind.Query)]
public sealed record GetSecurityState(string UserId) : IRequest<SecurityState>;

/// <summary>An account's security stamp and roles.</summary>
/// <param name="UserId">The account id.</param>
/// <param name="StampHash">
/// The hex SHA-256 of the account's security stamp, which changes with every role or password change
/// and every sign-out everywhere. Only the hash travels: a stamp read here could be put in a forged caller.
/// </param>
/// <param name="Roles">The account's roles now.</param>
/// <param name="Version">The account document's version: of two states, the higher is the newer.</param>
public sealed record SecurityState(string UserId, string StampHash, IReadOnlyList<string> Roles, long Version);

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
    [property: Secret] string? NewPassword = null,
    [property: Secret] string? CurrentPassword = null,
    IReadOnlyList<string>? Roles = null) : IRequest<UserDto>;

/// <summary>Deletes an account (admins; the bootstrap admin cannot be deleted) and publishes <see cref="UserDeleted"/>.</summary>
[Message("users.delete")]
public sealed record DeleteUser(Actor Actor, string UserId) : IRequest<Empty>;

/// <summary>Rotates a refresh token. Presenting a token that was already rotated revokes its whole family.</summary>
[Message("tokens.refresh", MessageKind.Query)]
public sealed record RefreshSession([property: Secret] string RefreshToken) : IRequest<UserSession>;

/// <summary>Revokes the family of a refresh token (sign-out).</summary>
[Message("tokens.revoke")]
public sealed record RevokeSession(Actor Actor, [property: Secret] string RefreshToken) : IRequest<Empty>;

/// <summary>
/// Signs an account out everywhere: a new security stamp ends every session and makes every access
/// token issued before it invalid. The account itself, or an admin for a non-admin account.
/// </summary>
[Message("users.revoke-sessions")]
public sealed record RevokeAllSessions(Actor Actor, string UserId) : IRequest<Empty>;

/// <summary>
/// Activates a pending account with the token from its activation link. Idempotent: the token that
/// activated an account answers again with the account and changes nothing; an expired or unknown
/// token is refused as invalid.
/// </summary>
/// <param name="Token">The raw token from the link (the user service keeps only its hash).</param>
[Message("users.activate")]
public sealed record ActivateAccount([property: Secret] string Token) : IRequest<UserDto>;

/// <summary>
/// Asks for a fresh activation link for a pending account, named by its user name or its e-mail
/// address: a new token (the previous one stops working) goes out in
/// <see cref="UserActivationRequested"/>. Succeeds whether or not such an account exists, is still
/// pending, or was sent a link a moment ago, so that it reveals nothing; sent without waiting for a reply.
/// </summary>
/// <param name="UserName">The user name, or null when <paramref name="Email"/> names the account.</param>
/// <param name="Email">The e-mail address, or null when <paramref name="UserName"/> names the account.</param>
[Message("users.send-activation")]
public sealed record SendActivation(string? UserName, string? Email) : IRequest<Empty>;

/// <summary>
/// Asks for a password-reset link for an active account, named by its user name or its e-mail address:
/// a new single-use token (an earlier one stops working) goes out in <see cref="UserPasswordResetRequested"/>
/// to the account's e-mail address. Succeeds whatever the account and its state, so that it reveals
/// nothing; sent without waiting for a reply.
/// </summary>
/// <param name="UserName">The user name, or null when <paramref name="Email"/> names the account.</param>
/// <param name="Email">The e-mail address, or null when <paramref name="UserName"/> names the account.</param>
[Message("users.request-password-reset")]
public sealed record RequestPasswordReset(string? UserName, string? Email) : IRequest<Empty>;

/// <summary>
/// Sets a new password with the token from a password-reset link: the same rules as a change, and a new
/// security stamp (every session and access token of the account ends). Does not sign in. An unknown,
/// replaced, used or expired token is refused as invalid, and the reply says which it can tell.
/// </summary>
/// <param name="Token">The raw token from the link (the user service keeps only its hash).</param>
/// <param name="NewPassword">The new password.</param>
[Message("users.reset-password")]
public sealed record ResetPassword([property: Secret] string Token, [property: Secret] string NewPassword) : IRequest<Empty>;

/// <summary>
/// Published when an account was created (after it was stored; at least once: a redelivered
/// registration publishes it again). A pending account's event carries a single-use activation token,
/// which the notification service mails as a link; an account that needs no activation has none.
/// </summary>
/// <param name="EventId">
/// Identifies this activation mail: the same token always comes with the same id, so that a consumer
/// can tell a repeated event from a new one. (Named in the body: the AMQP message id changes with
/// every publish.)
/// </param>
/// <param name="UserId">The account id.</param>
/// <param name="UserName">The user name as registered.</param>
/// <param name="Email">Where the activation link goes.</param>
/// <param name="ActivationToken">
/// The raw single-use token, or null when the account needs no activation. Not a <see cref="SecretAttribute">secret</see>
/// on purpose: a mail dead-lettered during a long SMTP outage must still work when an operator moves it back.
/// </param>
/// <param name="ActivationExpiresAt">When the token stops working, or null without a token.</param>
/// <param name="OccurredAt">When the event was published.</param>
[Message("user.registered")]
public sealed record UserRegistered(
    string EventId,
    string UserId,
    string UserName,
    string Email,
    string? ActivationToken,
    DateTimeOffset? ActivationExpiresAt,
    DateTimeOffset OccurredAt) : IEvent;

/// <summary>
/// Published when a pending account asked for a new activation link (<see cref="SendActivation"/>):
/// the same fields as <see cref="UserRegistered"/>, with the new token. May arrive more than once.
/// </summary>
/// <param name="EventId">Identifies this activation mail (the same token always comes with the same id).</param>
/// <param name="UserId">The account id.</param>
/// <param name="UserName">The user name.</param>
/// <param name="Email">Where the activation link goes.</param>
/// <param name="ActivationToken">The raw single-use token.</param>
/// <param name="ActivationExpiresAt">When the token stops working.</param>
/// <param name="OccurredAt">When the event was published.</param>
[Message("user.activation-requested")]
public sealed record UserActivationRequested(
    string EventId,
    string UserId,
    string UserName,
    string Email,
    string ActivationToken,
    DateTimeOffset ActivationExpiresAt,
    DateTimeOffset OccurredAt) : IEvent;

/// <summary>
/// Published when an active account asked to use a new e-mail address: the address takes effect only
/// when the link mailed to it is used (<see cref="ActivateAccount"/> with <paramref name="ConfirmationToken"/>),
/// so nobody gives an account an address they cannot read. May arrive more than once.
/// </summary>
/// <param name="EventId">Identifies the mail: a repeated event is not mailed twice.</param>
/// <param name="UserId">The account.</param>
/// <param name="UserName">Its user name.</param>
/// <param name="NewEmail">The address to confirm; the mail goes there.</param>
/// <param name="ConfirmationToken">The single-use token of the link (only its hash is stored).</param>
/// <param name="ConfirmationExpiresAt">When the link stops working.</param>
/// <param name="OccurredAt">When the change was asked for.</param>
[Message("user.email-change-requested")]
public sealed record UserEmailChangeRequested(
    string EventId,
    string UserId,
    string UserName,
    string NewEmail,
    string ConfirmationToken,
    DateTimeOffset ConfirmationExpiresAt,
    DateTimeOffset OccurredAt) : IEvent;

/// <summary>
/// Published when an active account asked for a password-reset link (<see cref="RequestPasswordReset"/>):
/// the notification service mails the link to <paramref name="Email"/>. May arrive more than once.
/// </summary>
/// <param name="EventId">Identifies the mail: the same token always comes with the same id, and a repeated event is not mailed twice.</param>
/// <param name="UserId">The account.</param>
/// <param name="UserName">Its user name.</param>
/// <param name="Email">The account's address; the mail goes there.</param>
/// <param name="ResetToken">
/// The raw single-use token (only its hash is stored). A <see cref="SecretAttribute">secret</see>, unlike
/// the activation token: it sets the password of an active account, so a dead-lettered copy keeps it
/// masked; the person asks for a new link, which is what they would do after an hour anyway.
/// </param>
/// <param name="ResetExpiresAt">When the link stops working.</param>
/// <param name="OccurredAt">When the reset was asked for.</param>
[Message("user.password-reset-requested")]
public sealed record UserPasswordResetRequested(
    string EventId,
    string UserId,
    string UserName,
    string Email,
    [property: Secret] string ResetToken,
    DateTimeOffset ResetExpiresAt,
    DateTimeOffset OccurredAt) : IEvent;

/// <summary>Published when an account was deleted. May arrive more than once: handle it idempotently.</summary>
[Message("user.deleted")]
public sealed record UserDeleted(string UserId, DateTimeOffset OccurredAt) : IEvent;

/// <summary>
/// Broadcast to every gateway instance when what decides an account's rights changed: a new
/// security stamp (role or password change, sign-out everywhere) or a deletion. It carries the whole
/// new state, so applying it twice or late changes nothing.
/// </summary>
/// <param name="UserId">The account id.</param>
/// <param name="StampHash">The hex SHA-256 of the new stamp.</param>
/// <param name="Roles">The roles now (empty when deleted).</param>
/// <param name="Deleted">True when the account no longer exists.</param>
/// <param name="Version">The account document's version after the change: broadcasts may arrive out of order.</param>
/// <param name="OccurredAt">When the change was stored.</param>
[Message("user.security-changed")]
public sealed record UserSecurityChanged(string UserId, string StampHash, IReadOnlyList<string> Roles, bool Deleted, long Version, DateTimeOffset OccurredAt) : IEvent;
