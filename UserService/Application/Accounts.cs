using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using UserService.Contracts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Application;

/// <summary>
/// The account operations behind the request handlers. Every operation on behalf of a caller starts
/// from the caller's account as stored now (<see cref="Actor"/>): rights are never taken from the
/// message. Every change is one conditional write of one account document that also records the
/// command's request id, so a redelivered command finds its own effect and answers as it did.
/// </summary>
internal sealed partial class Accounts(
    IUserStore store,
    Passwords passwords,
    Sessions sessions,
    IEventPublisher events,
    IOptions<AdminOptions> admin,
    IOptions<AccountOptions> accountOptions,
    TimeProvider time,
    ILogger<Accounts> logger)
{
    private const string TakenTitle = "Already registered";
    private const string TakenDetail = "The user name or e-mail address is already registered.";
    private const string SignInFailed = "The user name or password is wrong.";
    private const string NotActivatedTitle = "Account not activated";
    private const string NotActivatedDetail = "Activate your account with the link we e-mailed you first. No e-mail? Ask for a new link (POST /api/auth/activation-email).";

    // Optimistic concurrency: a change that lost a race is read again and re-applied this many times.
    private const int MaxAttempts = 5;

    /// <summary>
    /// Creates the account unless this request id already did. A redelivery after a crash finds the
    /// account by its registration request id (unique) and answers with it: never a second account,
    /// never a false 409.
    /// </summary>
    public async Task<Reply<UserDto>> RegisterAsync(string requestId, RegisterUser command, CancellationToken cancellationToken)
    {
        if (await store.FindByRegistrationRequestIdAsync(requestId, cancellationToken) is { } created)
        {
            // The inbox normally answers a repeat; past its retention, the account itself tells
            // whether the same registration is being repeated.
            if (created.NormalizedUserName != UserRules.NormalizeUserName(command.UserName ?? string.Empty)
                || created.NormalizedEmail != UserRules.NormalizeEmail(command.Email ?? string.Empty))
            {
                return Reply<UserDto>.Fail(ReplyStatus.Conflict, "Request id reused", "This request id (Idempotency-Key) was already used for a different request.");
            }

            return await RepublishRegisteredAsync(created, requestId, cancellationToken);
        }

        var errors = UserRules.Validate(command);
        if (errors.Count > 0)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, "Invalid registration", "One or more fields are invalid.", errors);
        }

        var now = User.Timestamp(time);
        var user = new User
        {
            Id = Guid.CreateVersion7().ToString(),
            UserName = command.UserName,
            NormalizedUserName = UserRules.NormalizeUserName(command.UserName),
            UserNameSkeleton = UserRules.Skeleton(command.UserName),
            Email = command.Email,
            NormalizedEmail = UserRules.NormalizeEmail(command.Email),
            PasswordHash = string.Empty,
            Roles = [Role.User],
            CreatedAt = now,
            UpdatedAt = now,
            RegistrationRequestId = requestId,
            SecurityStamp = User.NewStamp(),
            State = accountOptions.Value.RequireActivation ? AccountState.Pending : AccountState.Active,
        };

        // On the account document itself, so the token is stored in the same write as the account.
        var token = user.IsPending ? IssueActivationToken(user, requestId) : null;

        // Looked up before hashing (tens of milliseconds) so a taken name costs no hash; the unique
        // indexes still decide a race. Reserved names and their look-alikes are taken for ever.
        if (IsReserved(user.UserNameSkeleton)
            || await store.FindBySkeletonAsync(user.UserNameSkeleton, cancellationToken) is not null
            || await store.FindByUserNameAsync(user.NormalizedUserName, cancellationToken) is not null
            || await store.FindByEmailAsync(user.NormalizedEmail, cancellationToken) is not null)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Conflict, TakenTitle, TakenDetail);
        }

        user.PasswordHash = passwords.Hash(user, command.Password);
        if (await store.InsertAsync(user, cancellationToken) == UserInsertResult.Duplicate)
        {
            // Lost a race: to another delivery of this very request, or to another registration.
            return await store.FindByRegistrationRequestIdAsync(requestId, cancellationToken) is { } winner
                ? Reply<UserDto>.Ok(winner.ToDto())
                : Reply<UserDto>.Fail(ReplyStatus.Conflict, TakenTitle, TakenDetail);
        }

        LogRegistered(user.Id, requestId);
        await PublishRegisteredAsync(user, token, cancellationToken);
        return Reply<UserDto>.Ok(user.ToDto());
    }

    public async Task<Reply<UserSession>> AuthenticateAsync(AuthenticateUser query, CancellationToken cancellationToken)
    {
        var password = query.Password ?? string.Empty;
        var user = string.IsNullOrEmpty(query.UserName) || query.UserName.Length > UserRules.UserNameMaxLength
            ? null
            : await store.FindByUserNameAsync(UserRules.NormalizeUserName(query.UserName), cancellationToken);

        if (user is null || password.Length > UserRules.PasswordMaxLength)
        {
            passwords.VerifyDecoy(password.Length > UserRules.PasswordMaxLength ? string.Empty : password);
            return Reply<UserSession>.Fail(ReplyStatus.Unauthorized, "Sign-in failed", SignInFailed);
        }

        var (valid, rehash) = passwords.Verify(user, password);

        // Decided after the hash was checked, whatever its result: a pending account answers the same
        // for a right and a wrong password, after the same time, so it tells nothing about the password.
        if (user.IsPending)
        {
            return Reply<UserSession>.Fail(ReplyStatus.Forbidden, NotActivatedTitle, NotActivatedDetail);
        }

        if (!valid)
        {
            return Reply<UserSession>.Fail(ReplyStatus.Unauthorized, "Sign-in failed", SignInFailed);
        }

        if (rehash)
        {
            // A stronger hash of the same password: if another change got there first, the upgrade waits for the next sign-in.
            user.PasswordHash = passwords.Hash(user, password);
            await store.UpdateAsync(user, user.Version, cancellationToken);
        }

        return Reply<UserSession>.Ok(await sessions.OpenAsync(user, cancellationToken));
    }

    public async Task<Reply<UserDto>> GetAsync(GetUser query, CancellationToken cancellationToken)
    {
        var (caller, refused) = await CallerAsync<UserDto>(query.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (caller!.Id != query.UserId && !caller.IsAdmin)
        {
            return Forbidden<UserDto>("Only an admin may read another account.");
        }

        return await store.FindByIdAsync(query.UserId, cancellationToken) is { } user
            ? Reply<UserDto>.Ok(user.ToDto())
            : NotFound<UserDto>();
    }

    public async Task<Reply<UserPage>> ListAsync(ListUsers query, CancellationToken cancellationToken)
    {
        if (PagingRules.Check(query.Page, query.PageSize) is { Count: > 0 } errors)
        {
            return Reply<UserPage>.Fail(ReplyStatus.Invalid, "Invalid paging", null, errors);
        }

        var (caller, refused) = await CallerAsync<UserPage>(query.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (!caller!.IsAdmin)
        {
            return Forbidden<UserPage>("Only an admin may list accounts.");
        }

        var (items, total) = await store.ListAsync(PagingRules.Offset(query.Page, query.PageSize), query.PageSize, cancellationToken);
        return Reply<UserPage>.Ok(new UserPage([.. items.Select(u => u.ToDto())], query.Page, query.PageSize, total));
    }

    public async Task<Reply<SecurityState>> GetSecurityStateAsync(string userId, CancellationToken cancellationToken) =>
        await store.FindByIdAsync(userId, cancellationToken) is { } user
            ? Reply<SecurityState>.Ok(user.ToSecurityState())
            : NotFound<SecurityState>();

    public async Task<Reply<UserDto>> UpdateAsync(string requestId, UpdateUser command, CancellationToken cancellationToken)
    {
        // A redelivery of a change that took effect: the caller was authorised then, and the change
        // itself may have ended the stamp it came with (a new password).
        if (await AppliedAsync(command.UserId, command.Actor, requestId, cancellationToken) is { } applied)
        {
            await PublishSecurityChangeAsync(applied, cancellationToken);
            return Reply<UserDto>.Ok(applied.ToDto());
        }

        var (caller, refused) = await CallerAsync<UserDto>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (caller!.Id != command.UserId && !caller.IsAdmin)
        {
            return Forbidden<UserDto>("Only an admin may change another account.");
        }

        return await ChangeAsync(command.UserId, caller.Id, requestId, user => ApplyUpdateAsync(caller!, user, command, cancellationToken), async user =>
        {
            await PublishSecurityChangeAsync(user, cancellationToken);
            return Reply<UserDto>.Ok(user.ToDto());
        }, cancellationToken);
    }

    private async Task<Reply<UserDto>?> ApplyUpdateAsync(User caller, User user, UpdateUser command, CancellationToken cancellationToken)
    {
        var self = caller.Id == user.Id;
        if (!self && !caller.IsAdmin)
        {
            return Forbidden<UserDto>("Only an admin may change another account.");
        }

        if (command.Roles is not null && !caller.IsAdmin)
        {
            return Forbidden<UserDto>("Only an admin may change roles.");
        }

        // Admins are protected from each other: only the account itself changes what signs it in —
        // also after a demotion, or an admin could demote another, reset its password and promote it back.
        if (!self && user.CredentialsSelfManaged && (command.Email is not null || command.NewPassword is not null))
        {
            return Forbidden<UserDto>("Only the account itself may change the e-mail address or password of an account that is or was an admin.");
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (command.Email is not null)
        {
            UserRules.Add(errors, "email", UserRules.CheckEmail(command.Email));
        }

        if (command.NewPassword is not null)
        {
            UserRules.Add(errors, "newPassword", UserRules.CheckPassword(command.NewPassword));
        }

        // Your own e-mail address and password are changed with the current password (an admin
        // resetting another user's does not need theirs).
        if (self && (command.Email is not null || command.NewPassword is not null)
            && (command.CurrentPassword is null || command.CurrentPassword.Length > UserRules.PasswordMaxLength || !passwords.Verify(user, command.CurrentPassword).Valid))
        {
            errors["currentPassword"] = ["The current password is wrong."];
        }

        if (command.Roles is not null)
        {
            UserRules.Add(errors, "roles", UserRules.CheckRoles(command.Roles));
        }

        if (errors.Count > 0)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, "Invalid update", "One or more fields are invalid.", errors);
        }

        var roles = command.Roles?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var demoted = roles is not null && user.IsAdmin && !roles.Contains(Role.Admin);
        if (demoted && user.IsBootstrapAdmin)
        {
            return Forbidden<UserDto>("The bootstrap admin keeps the admin role.");
        }

        if (demoted && await store.CountAdminsAsync(cancellationToken) <= 1)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Conflict, "Last admin", "The last admin cannot be demoted.");
        }

        if (command.Email is not null)
        {
            user.Email = command.Email;
            user.NormalizedEmail = UserRules.NormalizeEmail(command.Email);
        }

        var securityChanged = false;
        if (command.NewPassword is not null)
        {
            user.PasswordHash = passwords.Hash(user, command.NewPassword);
            securityChanged = true;
        }

        if (roles is not null && !roles.SequenceEqual(user.Roles.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            user.Roles = roles;
            user.HasBeenAdmin |= user.IsAdmin;
            securityChanged = true;
        }

        if (securityChanged)
        {
            // Every session and access token of the account ends with the old stamp.
            user.SecurityStamp = User.NewStamp();
        }

        return null;
    }

    /// <summary>Signs an account out everywhere: a new security stamp.</summary>
    public async Task<Reply<Empty>> RevokeAllSessionsAsync(string requestId, RevokeAllSessions command, CancellationToken cancellationToken)
    {
        if (await AppliedAsync(command.UserId, command.Actor, requestId, cancellationToken) is { } applied)
        {
            await PublishSecurityChangeAsync(applied, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }

        var (caller, refused) = await CallerAsync<Empty>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        return await ChangeAsync(command.UserId, caller!.Id, requestId, user =>
        {
            if (caller!.Id != user.Id && !(caller.IsAdmin && !user.IsAdmin))
            {
                return Task.FromResult<Reply<Empty>?>(Forbidden<Empty>("Only the account itself, or an admin for an account that is not an admin, may end its sessions."));
            }

            user.SecurityStamp = User.NewStamp();
            return Task.FromResult<Reply<Empty>?>(null);
        }, async user =>
        {
            await PublishSecurityChangeAsync(user, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes the account: it becomes a tombstone (one write, with this request id), then
    /// <c>user.deleted</c> goes out and its sessions are removed. A redelivery at any point finds the
    /// tombstone and finishes; consumers of the event are idempotent.
    /// </summary>
    public async Task<Reply<Empty>> DeleteAsync(string requestId, DeleteUser command, CancellationToken cancellationToken)
    {
        if (await DeletedByAsync(command, requestId, cancellationToken) is { } tombstone)
        {
            return await FinishDeletionAsync(tombstone, command.Actor.UserId, cancellationToken);
        }

        var (caller, refused) = await CallerAsync<Empty>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (!caller!.IsAdmin)
        {
            return Forbidden<Empty>("Only an admin may delete accounts.");
        }

        var deleted = await ChangeAsync(command.UserId, caller.Id, requestId, async user =>
        {
            if (user.IsBootstrapAdmin)
            {
                return Forbidden<Empty>("The bootstrap admin account cannot be deleted.");
            }

            if (user.IsAdmin && await store.CountAdminsAsync(cancellationToken) <= 1)
            {
                return Reply<Empty>.Fail(ReplyStatus.Conflict, "Last admin", "The last admin cannot be deleted.");
            }

            user.DeletedAt = User.Timestamp(time);
            user.DeletionRequestId = requestId;
            user.UserName = string.Empty;
            user.NormalizedUserName = user.NormalizedEmail = user.UserNameSkeleton = $"#deleted:{user.Id}";
            user.Email = string.Empty;
            user.PasswordHash = string.Empty;
            user.Roles = [];
            user.SecurityStamp = User.NewStamp();
            return null;
        }, user => FinishDeletionAsync(user, command.Actor.UserId, cancellationToken), cancellationToken);

        // Two deliveries of one deletion at once: the one that lost the race finds the other's tombstone.
        return deleted.Status == ReplyStatus.NotFound && await DeletedByAsync(command, requestId, cancellationToken) is { } done
            ? await FinishDeletionAsync(done, command.Actor.UserId, cancellationToken)
            : deleted;
    }

    private async Task<User?> DeletedByAsync(DeleteUser command, string requestId, CancellationToken cancellationToken) =>
        command.Actor is not null && await store.FindTombstoneAsync(command.UserId, cancellationToken) is { } tombstone && tombstone.Applied(command.Actor.UserId, requestId)
            ? tombstone
            : null;

    private async Task<Reply<Empty>> FinishDeletionAsync(User tombstone, string actorId, CancellationToken cancellationToken)
    {
        await events.PublishAsync(new UserDeleted(tombstone.Id, time.GetUtcNow()), cancellationToken);
        await PublishSecurityChangeAsync(tombstone, cancellationToken);
        await store.DeleteSessionsOfUserAsync(tombstone.Id, cancellationToken);
        LogDeleted(tombstone.Id, actorId);
        return Reply<Empty>.Ok(Empty.Instance);
    }

    /// <summary>
    /// Reads the account, lets <paramref name="change"/> check and change it (it returns a reply to
    /// refuse), and stores it with <paramref name="requestId"/> only if nobody stored another change
    /// since it was read; otherwise starts over. A request id already recorded on the account means
    /// this command took effect before (a redelivery): <paramref name="done"/> answers again. Without
    /// a request id the change is applied on every call (for changes a redelivery must repeat).
    /// </summary>
    private async Task<Reply<T>> ChangeAsync<T>(
        string userId,
        string actorId,
        string? requestId,
        Func<User, Task<Reply<T>?>> change,
        Func<User, Task<Reply<T>>> done,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await store.FindByIdAsync(userId, cancellationToken) is not { } user)
            {
                return NotFound<T>();
            }

            if (requestId is not null && user.Applied(actorId, requestId))
            {
                return await done(user);
            }

            var expectedVersion = user.Version;
            if (await change(user) is { } refused)
            {
                return refused;
            }

            user.UpdatedAt = User.Timestamp(time);
            if (requestId is not null)
            {
                user.Remember(actorId, requestId);
            }

            switch (await store.UpdateAsync(user, expectedVersion, cancellationToken))
            {
                case UserUpdateResult.Updated:
                    return await done(user);
                case UserUpdateResult.Duplicate:
                    return Reply<T>.Fail(ReplyStatus.Conflict, TakenTitle, "The e-mail address is already registered.");
                case UserUpdateResult.NotFound:
                    return NotFound<T>();
                default:
                    LogConcurrentChange(userId, attempt);
                    break;
            }
        }

        return Reply<T>.Fail(ReplyStatus.Conflict, "Changed concurrently", "The account kept changing while this change was applied; try again.");
    }

    /// <summary>The account, if the command <paramref name="requestId"/> of <paramref name="actor"/> already changed it.</summary>
    private async Task<User?> AppliedAsync(string userId, Actor? actor, string requestId, CancellationToken cancellationToken) =>
        actor is not null && await store.FindByIdAsync(userId, cancellationToken) is { } user && user.Applied(actor.UserId, requestId) ? user : null;

    /// <summary>The caller's account as stored now, or the reply that refuses the request.</summary>
    private async Task<(User? Caller, Reply<T>? Refused)> CallerAsync<T>(Actor? actor, CancellationToken cancellationToken)
    {
        if (actor is null || string.IsNullOrEmpty(actor.UserId))
        {
            return (null, Reply<T>.Fail(ReplyStatus.Unauthorized, "Unauthorized", "The request names no caller."));
        }

        var caller = await store.FindByIdAsync(actor.UserId, cancellationToken);
        if (caller is null || caller.CurrentStamp != actor.SecurityStamp)
        {
            return (null, Reply<T>.Fail(ReplyStatus.Unauthorized, "Session ended", "The account was deleted, or its roles or password changed, or it was signed out everywhere: sign in again."));
        }

        return (caller, null);
    }

    private bool IsReserved(string skeleton) =>
        accountOptions.Value.ReservedUserNames.Append(admin.Value.UserName).Any(name => UserRules.Skeleton(name) == skeleton);


    // A broadcast: every gateway instance keeps its own cache of rights, and one that is not running
    // needs none of it (it asks the user service when it starts seeing the account).
    private Task PublishSecurityChangeAsync(User user, CancellationToken cancellationToken) =>
        events.BroadcastAsync(
            new UserSecurityChanged(user.Id, User.StampHash(user.CurrentStamp), [.. user.Roles], user.DeletedAt is not null, user.Version, time.GetUtcNow()),
            cancellationToken);

    private static Reply<T> NotFound<T>() => Reply<T>.Fail(ReplyStatus.NotFound, "User not found");

    private static Reply<T> Forbidden<T>(string detail) => Reply<T>.Fail(ReplyStatus.Forbidden, "Forbidden", detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered user {UserId} (request {RequestId})")]
    private partial void LogRegistered(string userId, string requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted user {UserId} (by {ActorId})")]
    private partial void LogDeleted(string userId, string actorId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "User {UserId} changed while a change was applied (attempt {Attempt}); reading it again")]
    private partial void LogConcurrentChange(string userId, int attempt);
}
