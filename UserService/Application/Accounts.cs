using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Application;

/// <summary>The account operations behind the request handlers.</summary>
internal sealed partial class Accounts(
    IUserStore store,
    Passwords passwords,
    Sessions sessions,
    IEventPublisher events,
    IOptions<AdminOptions> admin,
    TimeProvider time,
    ILogger<Accounts> logger)
{
    private const string TakenTitle = "Already registered";
    private const string TakenDetail = "The user name or e-mail address is already registered.";
    private const string SignInFailed = "The user name or password is wrong.";

    /// <summary>
    /// Creates the account unless this request id already did. A redelivery after a crash finds the
    /// account by its registration request id (unique) and answers with it: never a second account,
    /// never a false 409.
    /// </summary>
    public async Task<Reply<UserDto>> RegisterAsync(string requestId, RegisterUser command, CancellationToken cancellationToken)
    {
        if (await store.FindByRegistrationRequestIdAsync(requestId, cancellationToken) is { } created)
        {
            await PublishRegisteredAsync(created, cancellationToken);
            return Reply<UserDto>.Ok(created.ToDto());
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
            Email = command.Email,
            NormalizedEmail = UserRules.NormalizeEmail(command.Email),
            PasswordHash = string.Empty,
            Roles = [Role.User],
            CreatedAt = now,
            UpdatedAt = now,
            RegistrationRequestId = requestId,
        };

        // Looked up before hashing (tens of milliseconds) so a taken name costs no hash; the unique
        // indexes still decide a race. The bootstrap admin's name is reserved, even before it exists.
        if (user.NormalizedUserName == UserRules.NormalizeUserName(admin.Value.UserName)
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
        await PublishRegisteredAsync(user, cancellationToken);
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
        if (!valid)
        {
            return Reply<UserSession>.Fail(ReplyStatus.Unauthorized, "Sign-in failed", SignInFailed);
        }

        if (rehash)
        {
            user.PasswordHash = passwords.Hash(user, password);
            await store.UpdateAsync(user, cancellationToken);
        }

        return Reply<UserSession>.Ok(await sessions.OpenAsync(user, cancellationToken));
    }

    public async Task<Reply<UserDto>> GetAsync(string userId, CancellationToken cancellationToken) =>
        await store.FindByIdAsync(userId, cancellationToken) is { } user
            ? Reply<UserDto>.Ok(user.ToDto())
            : NotFound<UserDto>();

    public async Task<Reply<UserPage>> ListAsync(ListUsers query, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (query.Page < 1)
        {
            errors["page"] = ["The page must be 1 or more."];
        }

        if (query.PageSize is < 1 or > 100)
        {
            errors["pageSize"] = ["The page size must be between 1 and 100."];
        }

        if (errors.Count > 0)
        {
            return Reply<UserPage>.Fail(ReplyStatus.Invalid, "Invalid paging", null, errors);
        }

        var (items, total) = await store.ListAsync((query.Page - 1) * query.PageSize, query.PageSize, cancellationToken);
        return Reply<UserPage>.Ok(new UserPage([.. items.Select(u => u.ToDto())], query.Page, query.PageSize, total));
    }

    public async Task<Reply<UserDto>> UpdateAsync(UpdateUser command, CancellationToken cancellationToken)
    {
        var self = command.Actor.UserId == command.UserId;
        if (!self && !command.Actor.IsAdmin)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Forbidden, "Forbidden", "Only an admin may change another account.");
        }

        if (command.Roles is not null && !command.Actor.IsAdmin)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Forbidden, "Forbidden", "Only an admin may change roles.");
        }

        if (await store.FindByIdAsync(command.UserId, cancellationToken) is not { } user)
        {
            return NotFound<UserDto>();
        }

        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (command.Email is not null)
        {
            UserRules.Add(errors, "email", UserRules.CheckEmail(command.Email));
        }

        if (command.NewPassword is not null)
        {
            UserRules.Add(errors, "newPassword", UserRules.CheckPassword(command.NewPassword));

            // Changing your own password needs the current one; an admin resetting someone else's does not.
            if (self && (command.CurrentPassword is null || !passwords.Verify(user, command.CurrentPassword).Valid))
            {
                errors["currentPassword"] = ["The current password is wrong."];
            }
        }

        if (command.Roles is not null)
        {
            UserRules.Add(errors, "roles", UserRules.CheckRoles(command.Roles));
            if (user.IsBootstrapAdmin && !command.Roles.Contains(Role.Admin))
            {
                errors["roles"] = ["The bootstrap admin keeps the admin role."];
            }
        }

        if (errors.Count > 0)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, "Invalid update", "One or more fields are invalid.", errors);
        }

        if (command.Email is not null)
        {
            user.Email = command.Email;
            user.NormalizedEmail = UserRules.NormalizeEmail(command.Email);
        }

        if (command.NewPassword is not null)
        {
            user.PasswordHash = passwords.Hash(user, command.NewPassword);
        }

        if (command.Roles is not null)
        {
            user.Roles = [.. command.Roles.Distinct(StringComparer.Ordinal)];
        }

        user.UpdatedAt = User.Timestamp(time);
        switch (await store.UpdateAsync(user, cancellationToken))
        {
            case UserUpdateResult.NotFound:
                return NotFound<UserDto>();
            case UserUpdateResult.Duplicate:
                return Reply<UserDto>.Fail(ReplyStatus.Conflict, TakenTitle, "The e-mail address is already registered.");
        }

        if (command.NewPassword is not null)
        {
            // A new password ends every session: a stolen refresh token stops working.
            await store.RevokeRefreshTokensOfUserAsync(user.Id, cancellationToken);
        }

        return Reply<UserDto>.Ok(user.ToDto());
    }

    /// <summary>
    /// Deletes the account. The event goes out first: if the process dies after it, the redelivered
    /// command finds the account still there and finishes; consumers of <c>user.deleted</c> are idempotent.
    /// It goes out twice: as a domain event for the services that must act on it (the movie service
    /// deletes the movies; kept for them until they exist), and as a broadcast to every running
    /// gateway, which refuses the user's remaining access tokens.
    /// </summary>
    public async Task<Reply<Empty>> DeleteAsync(DeleteUser command, CancellationToken cancellationToken)
    {
        if (!command.Actor.IsAdmin)
        {
            return Reply<Empty>.Fail(ReplyStatus.Forbidden, "Forbidden", "Only an admin may delete accounts.");
        }

        if (await store.FindByIdAsync(command.UserId, cancellationToken) is not { } user)
        {
            return NotFound<Empty>();
        }

        if (user.IsBootstrapAdmin)
        {
            return Reply<Empty>.Fail(ReplyStatus.Conflict, "Cannot delete the bootstrap admin", "The bootstrap admin account cannot be deleted.");
        }

        var deleted = new UserDeleted(user.Id, time.GetUtcNow());
        await events.PublishAsync(deleted, cancellationToken);
        await events.BroadcastAsync(deleted, cancellationToken);
        await store.DeleteAsync(user.Id, cancellationToken);
        LogDeleted(user.Id, command.Actor.UserId);
        return Reply<Empty>.Ok(Empty.Instance);
    }

    private Task PublishRegisteredAsync(User user, CancellationToken cancellationToken) =>
        events.PublishAsync(new UserRegistered(user.Id, user.UserName, time.GetUtcNow()), cancellationToken);

    private static Reply<T> NotFound<T>() => Reply<T>.Fail(ReplyStatus.NotFound, "User not found");

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered user {UserId} (request {RequestId})")]
    private partial void LogRegistered(string userId, string requestId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted user {UserId} (by {ActorId})")]
    private partial void LogDeleted(string userId, string actorId);
}
