using UserService.Contracts;

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

    /// <summary>The account created at start-up from <c>Admin:*</c>; it cannot be deleted or demoted.</summary>
    public bool IsBootstrapAdmin { get; set; }

    /// <summary>
    /// <see cref="UserService.Contracts.UserRules.Skeleton"/> of the user name: what it looks like. Unique, so no
    /// name can be registered that displays like another one.
    /// </summary>
    public string? UserNameSkeleton { get; set; }

    /// <summary>
    /// A random value that changes whenever what the account may do changes: roles, password, a
    /// sign-out everywhere, deletion. Access tokens and sessions carry the stamp they were issued
    /// with and stop working when it changes. Null for accounts stored before stamps existed (read
    /// as the empty stamp).
    /// </summary>
    public string? SecurityStamp { get; set; }

    /// <summary>Incremented by every stored change; an update applies only to the version it read (optimistic concurrency).</summary>
    public long Version { get; set; }

    /// <summary>
    /// The last commands applied to this account (<c>{caller id}:{request id}</c>), written with the
    /// change itself: a redelivered command finds itself here and answers as it did, whatever point the
    /// first delivery reached before it crashed. Keyed by the caller too, so a request id alone, replayed
    /// by someone else, finds nothing.
    /// </summary>
    public List<string> RecentRequestIds { get; set; } = [];

    /// <summary>
    /// Set for good when the account is given the admin role: its e-mail address and password are then
    /// changed by the account itself only, even after a demotion — otherwise one admin could demote
    /// another, reset its password, promote it again and sign in as it.
    /// </summary>
    public bool HasBeenAdmin { get; set; }

    /// <summary>Set when the account was deleted: what remains is a tombstone (no name, e-mail or password), kept for the retention of command records.</summary>
    public DateTime? DeletedAt { get; set; }

    /// <summary>The request id of the deletion, so that a redelivered deletion answers as the first did.</summary>
    public string? DeletionRequestId { get; set; }

    /// <summary>
    /// <see cref="AccountState"/>: pending until the activation link is used. Null for accounts stored
    /// before activation existed, which count as active.
    /// </summary>
    public string? State { get; set; }

    /// <summary>Hex SHA-256 of the current activation token: the raw token exists only in the mail.</summary>
    public string? ActivationTokenHash { get; set; }

    /// <summary>When the current activation token was issued (a new link is not sent again sooner than <c>Accounts:ActivationEmailInterval</c>).</summary>
    public DateTime? ActivationTokenIssuedAt { get; set; }

    /// <summary>When the current activation token stops working.</summary>
    public DateTime? ActivationTokenExpiresAt { get; set; }

    /// <summary>How many links were issued since the account was last activated or confirmed an address (the registration's included): each new one waits twice as long.</summary>
    public int ActivationLinksSent { get; set; }

    /// <summary>The event id of the mail that carries the current token: a repeated event keeps it, so the mail is not sent twice.</summary>
    public string? ActivationEventId { get; set; }

    /// <summary>The request id of the command that issued the current token: its redelivery issues a new one without waiting for the interval.</summary>
    public string? ActivationRequestId { get; set; }

    /// <summary>
    /// A new e-mail address the account asked for, not yet confirmed: it takes effect when the link
    /// mailed to it (the current activation token) is used. Null when none is waiting.
    /// </summary>
    public string? PendingEmail { get; set; }

    /// <summary>When the account was activated.</summary>
    public DateTime? ActivatedAt { get; set; }

    /// <summary>
    /// True while the account's address is one an admin set for it, not one the account proved
    /// (by activation or a confirmed change): an account that is or was an admin gets no password-reset
    /// link there. False for accounts stored before it existed.
    /// </summary>
    public bool EmailSetByAdmin { get; set; }

    /// <summary>Hex SHA-256 of the current password-reset token (the raw token exists only in the mail); null when none was asked for.</summary>
    public string? PasswordResetTokenHash { get; set; }

    /// <summary>When the current password-reset token was issued.</summary>
    public DateTime? PasswordResetIssuedAt { get; set; }

    /// <summary>When the current password-reset token stops working (<c>Accounts:PasswordResetTokenLifetime</c> after it was issued).</summary>
    public DateTime? PasswordResetExpiresAt { get; set; }

    /// <summary>When the current password-reset token set the password: it works once.</summary>
    public DateTime? PasswordResetUsedAt { get; set; }

    /// <summary>
    /// The hash of the reset token the current one replaced, so that a person who opens the older of
    /// two mails is told a newer link was sent (it sets nothing).
    /// </summary>
    public string? PasswordResetReplacedTokenHash { get; set; }

    /// <summary>How many reset links were mailed since the last reset (or since a day without one): each new one waits twice as long.</summary>
    public int PasswordResetLinksSent { get; set; }

    /// <summary>The event id of the mail that carries the current reset token: a repeated event keeps it, so the mail is not sent twice.</summary>
    public string? PasswordResetEventId { get; set; }

    /// <summary>The request id of the command that issued the current reset token: its redelivery issues a new one without waiting.</summary>
    public string? PasswordResetRequestId { get; set; }

    public bool IsAdmin => Roles.Contains(Role.Admin);

    /// <summary>Whether only the account itself may change its e-mail address and password.</summary>
    public bool CredentialsSelfManaged => IsAdmin || HasBeenAdmin || IsBootstrapAdmin;

    /// <summary>True until the account is activated; accounts without a state (stored before activation existed) are active.</summary>
    public bool IsPending => State == AccountState.Pending;

    /// <summary>The stamp as tokens carry it (empty for accounts stored before stamps existed).</summary>
    public string CurrentStamp => SecurityStamp ?? string.Empty;

    /// <summary>How many recent request ids an account remembers.</summary>
    public const int RememberedRequests = 20;

    /// <summary>
    /// Ends the current password-reset link (a new address or a new password: a link mailed to the
    /// old address, or asked for before the change, must not undo it). The wait for the next link stays.
    /// </summary>
    public void ForgetPasswordResetLink()
    {
        PasswordResetTokenHash = null;
        PasswordResetReplacedTokenHash = null;
        PasswordResetExpiresAt = null;
    }

    /// <summary>
    /// Drops a new address waiting for confirmation, and its link (a new password: whoever asked for
    /// that address with the old password must not get the account through it afterwards). A pending
    /// account's activation link stays.
    /// </summary>
    public void DropPendingEmail()
    {
        if (PendingEmail is null)
        {
            return;
        }

        PendingEmail = null;
        ActivationTokenHash = null;
        ActivationTokenExpiresAt = null;
    }

    /// <summary>Whether a password-reset link may be mailed to the account's address: an admin's (or former admin's) only when the account proved it.</summary>
    public bool MayGetPasswordResetLink => !IsPending && !(CredentialsSelfManaged && EmailSetByAdmin);

    /// <summary>A new security stamp.</summary>
    public static string NewStamp() => Guid.NewGuid().ToString("N");

    /// <summary>Whether the change of <paramref name="requestId"/>, sent by <paramref name="actorId"/>, is stored on this account.</summary>
    public bool Applied(string actorId, string requestId) => RecentRequestIds.Contains($"{actorId}:{requestId}");

    /// <summary>Records that the command with <paramref name="requestId"/>, sent by <paramref name="actorId"/>, is part of the next stored change.</summary>
    public void Remember(string actorId, string requestId)
    {
        RecentRequestIds.Add($"{actorId}:{requestId}");
        if (RecentRequestIds.Count > RememberedRequests)
        {
            RecentRequestIds.RemoveRange(0, RecentRequestIds.Count - RememberedRequests);
        }
    }

    /// <summary>
    /// The rights-relevant state, as the gateway caches it: the stamp travels only as its SHA-256,
    /// so nothing that reads the broker learns a stamp it could put in a forged caller.
    /// </summary>
    public SecurityState ToSecurityState() => new(Id, StampHash(CurrentStamp), [.. Roles], Version);

    /// <summary>The hex SHA-256 of a stamp, as <see cref="SecurityState"/> and the broadcasts carry it.</summary>
    public static string StampHash(string stamp) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(stamp)));

    /// <summary>
    /// A new account, not stored yet and without its password hash (the hash is made for the account):
    /// a new id, the normalised forms and skeleton of its name and e-mail address, a first stamp.
    /// </summary>
    public static User Create(string userName, string email, List<string> roles, string registrationRequestId, string state, TimeProvider time)
    {
        var now = Timestamp(time);
        return new User
        {
            Id = Guid.CreateVersion7().ToString(),
            UserName = userName,
            NormalizedUserName = UserRules.NormalizeUserName(userName),
            UserNameSkeleton = UserRules.Skeleton(userName),
            Email = email,
            NormalizedEmail = UserRules.NormalizeEmail(email),
            PasswordHash = string.Empty,
            Roles = roles,
            CreatedAt = now,
            UpdatedAt = now,
            RegistrationRequestId = registrationRequestId,
            SecurityStamp = NewStamp(),
            State = state,
        };
    }

    /// <summary>The current time at the precision both stores keep (milliseconds), so replies match what is read back later.</summary>
    public static DateTime Timestamp(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return now.AddTicks(-(now.Ticks % TimeSpan.TicksPerMillisecond));
    }

    public UserDto ToDto() => new(Id, UserName, Email, [.. Roles], new DateTimeOffset(DateTime.SpecifyKind(CreatedAt.ToUniversalTime(), DateTimeKind.Utc)));
}
