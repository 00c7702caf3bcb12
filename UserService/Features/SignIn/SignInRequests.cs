using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Features.SignIn;

/// <summary>
/// Sign-in and its sessions: <c>users.authenticate</c> opens a session, <c>tokens.refresh</c> rotates
/// its refresh token, <c>tokens.revoke</c> signs out and <c>users.revoke-sessions</c> signs an account
/// out everywhere (<see cref="Sessions"/> keeps the refresh tokens).
/// </summary>
internal sealed class SignInRequests(IUserStore store, AccountAccess accounts, Sessions sessions, Passwords passwords, CommandInbox inbox)
    : IRequestHandler<AuthenticateUser, UserSession>,
        IRequestHandler<RefreshSession, UserSession>,
        IRequestHandler<RevokeSession, Empty>,
        IRequestHandler<RevokeAllSessions, Empty>
{
    private const string SignInFailed = "The user name or password is wrong.";
    private const string NotActivatedTitle = "Account not activated";
    private const string NotActivatedDetail = "Activate your account with the link we e-mailed you first. No e-mail? Ask for a new link (POST /api/auth/activation-email).";

    /// <summary>Checks the password and opens a session (a query: it expires unanswered rather than late).</summary>
    public async Task<Reply<UserSession>> HandleAsync(AuthenticateUser request, RequestContext context, CancellationToken cancellationToken)
    {
        var password = request.Password ?? string.Empty;
        // No account's name holds a control character (a store might ignore one in a lookup).
        var user = string.IsNullOrEmpty(request.UserName) || request.UserName.Length > UserRules.UserNameMaxLength || UserRules.HasControlCharacters(request.UserName)
            ? null
            : await store.FindByUserNameAsync(UserRules.NormalizeUserName(request.UserName), cancellationToken);

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
    /// Rotates a refresh token. A query, so that a rotation nobody waits for any more is never made:
    /// the client's retry with the same token then still works.
    /// </summary>
    public async Task<Reply<UserSession>> HandleAsync(RefreshSession request, RequestContext context, CancellationToken cancellationToken) =>
        await sessions.RotateAsync(request.RefreshToken, cancellationToken) is { } result
            ? Reply<UserSession>.Ok(result)
            : Reply<UserSession>.Fail(ReplyStatus.Unauthorized, "Invalid refresh token", "The refresh token is unknown, expired, revoked or was already used.");

    /// <summary>
    /// Signs out (revokes the session of the token, if it is the caller's). Always succeeds: it reveals
    /// nothing about the token. Idempotent: a revoked session stays revoked.
    /// </summary>
    public Task<Reply<Empty>> HandleAsync(RevokeSession request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, async () =>
        {
            await sessions.RevokeAsync(request.RefreshToken, request.Actor.UserId, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);

    /// <summary>Sign-out everywhere, idempotent by request id.</summary>
    public Task<Reply<Empty>> HandleAsync(RevokeAllSessions request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, () => RevokeAllSessionsAsync(context.RequestId, request, cancellationToken), cancellationToken);

    /// <summary>Signs an account out everywhere: a new security stamp, one write that also records the request id.</summary>
    internal async Task<Reply<Empty>> RevokeAllSessionsAsync(string requestId, RevokeAllSessions command, CancellationToken cancellationToken)
    {
        if (await accounts.AppliedAsync(command.UserId, command.Actor, requestId, cancellationToken) is { } applied)
        {
            await accounts.PublishSecurityChangeAsync(applied, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }

        var (caller, refused) = await accounts.CallerAsync<Empty>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        return await accounts.ChangeAsync(command.UserId, caller!.Id, requestId, user =>
        {
            if (caller!.Id != user.Id && !(caller.IsAdmin && !user.IsAdmin))
            {
                return Task.FromResult<Reply<Empty>?>(Replies.Forbidden<Empty>("Only the account itself, or an admin for an account that is not an admin, may end its sessions."));
            }

            user.SecurityStamp = User.NewStamp();
            return Task.FromResult<Reply<Empty>?>(null);
        }, async user =>
        {
            await accounts.PublishSecurityChangeAsync(user, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);
    }
}
