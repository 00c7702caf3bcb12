using MovieDb.Messaging.Contracts;
using UserService.Contracts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Application;

/// <summary>Registration and sign-in.</summary>
internal sealed partial class Accounts
{
    private const string TakenDetail = "The user name or e-mail address is already registered.";
    private const string SignInFailed = "The user name or password is wrong.";
    private const string NotActivatedTitle = "Account not activated";
    private const string NotActivatedDetail = "Activate your account with the link we e-mailed you first. No e-mail? Ask for a new link (POST /api/auth/activation-email).";

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

        var user = User.Create(
            command.UserName, command.Email, [Role.User], requestId, accountOptions.Value.RequireActivation ? AccountState.Pending : AccountState.Active, time);

        // On the account document itself, so the token is stored in the same write as the account.
        var token = user.IsPending ? IssueActivationToken(user, requestId) : null;
        if (await IsTakenAsync(user, cancellationToken))
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
        // No account's name holds a control character (a store might ignore one in a lookup).
        var user = string.IsNullOrEmpty(query.UserName) || query.UserName.Length > UserRules.UserNameMaxLength || UserRules.HasControlCharacters(query.UserName)
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

    /// <summary>
    /// Whether the new account's name, a look-alike of it, or its e-mail address is taken. Looked up
    /// before hashing (tens of milliseconds) so a taken name costs no hash; the unique indexes still
    /// decide a race. Reserved names and their look-alikes are taken for ever.
    /// </summary>
    private async Task<bool> IsTakenAsync(User user, CancellationToken cancellationToken) =>
        IsReserved(user.UserNameSkeleton!)
        || await store.FindBySkeletonAsync(user.UserNameSkeleton!, cancellationToken) is not null
        || await store.FindByUserNameAsync(user.NormalizedUserName, cancellationToken) is not null
        || await store.FindByEmailAsync(user.NormalizedEmail, cancellationToken) is not null;

    private bool IsReserved(string skeleton) =>
        accountOptions.Value.ReservedUserNames.Append(admin.Value.UserName).Any(name => UserRules.Skeleton(name) == skeleton);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered user {UserId} (request {RequestId})")]
    private partial void LogRegistered(string userId, string requestId);
}
