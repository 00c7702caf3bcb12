using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Application;
using UserService.Contracts;

namespace UserService.Handlers;

/// <summary><c>users.authenticate</c>: checks the password and opens a session (a query: it expires unanswered rather than late).</summary>
internal sealed class AuthenticateUserHandler(Accounts accounts) : IRequestHandler<AuthenticateUser, UserSession>
{
    public Task<Reply<UserSession>> HandleAsync(AuthenticateUser request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.AuthenticateAsync(request, cancellationToken);
}

/// <summary>
/// <c>tokens.refresh</c>: rotates a refresh token. A query, so that a rotation nobody waits for any
/// more is never made: the client's retry with the same token then still works.
/// </summary>
internal sealed class RefreshSessionHandler(Sessions sessions) : IRequestHandler<RefreshSession, UserSession>
{
    public async Task<Reply<UserSession>> HandleAsync(RefreshSession request, RequestContext context, CancellationToken cancellationToken) =>
        await sessions.RotateAsync(request.RefreshToken, cancellationToken) is { } result
            ? Reply<UserSession>.Ok(result)
            : Reply<UserSession>.Fail(ReplyStatus.Unauthorized, "Invalid refresh token", "The refresh token is unknown, expired, revoked or was already used.");
}

/// <summary>
/// <c>tokens.revoke</c>: signs out (revokes the session of the token, if it is the caller's). Always
/// succeeds: it reveals nothing about the token. Idempotent: a revoked session stays revoked.
/// </summary>
internal sealed class RevokeSessionHandler(Sessions sessions, CommandInbox inbox) : IRequestHandler<RevokeSession, Empty>
{
    public Task<Reply<Empty>> HandleAsync(RevokeSession request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, async () =>
        {
            await sessions.RevokeAsync(request.RefreshToken, request.Actor.UserId, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);
}
