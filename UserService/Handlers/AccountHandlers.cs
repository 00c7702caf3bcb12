using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Application;
using UserService.Contracts;

namespace UserService.Handlers;

/// <summary><c>users.get</c>.</summary>
internal sealed class GetUserHandler(Accounts accounts) : IRequestHandler<GetUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(GetUser request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.GetAsync(request, cancellationToken);
}

/// <summary><c>users.list</c>.</summary>
internal sealed class ListUsersHandler(Accounts accounts) : IRequestHandler<ListUsers, UserPage>
{
    public Task<Reply<UserPage>> HandleAsync(ListUsers request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.ListAsync(request, cancellationToken);
}

/// <summary><c>users.security-state</c>: what the gateway's cache of rights is refreshed from.</summary>
internal sealed class GetSecurityStateHandler(Accounts accounts) : IRequestHandler<GetSecurityState, SecurityState>
{
    public Task<Reply<SecurityState>> HandleAsync(GetSecurityState request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.GetSecurityStateAsync(request.UserId, cancellationToken);
}

/// <summary><c>users.update</c>: idempotent by request id.</summary>
internal sealed class UpdateUserHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<UpdateUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(UpdateUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, () => accounts.UpdateAsync(context.RequestId, request, cancellationToken), cancellationToken);
}

/// <summary><c>users.delete</c>: idempotent by request id; publishes <c>user.deleted</c>.</summary>
internal sealed class DeleteUserHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<DeleteUser, Empty>
{
    public Task<Reply<Empty>> HandleAsync(DeleteUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, () => accounts.DeleteAsync(context.RequestId, request, cancellationToken), cancellationToken);
}

/// <summary><c>users.revoke-sessions</c>: sign-out everywhere, idempotent by request id.</summary>
internal sealed class RevokeAllSessionsHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<RevokeAllSessions, Empty>
{
    public Task<Reply<Empty>> HandleAsync(RevokeAllSessions request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, () => accounts.RevokeAllSessionsAsync(context.RequestId, request, cancellationToken), cancellationToken);
}
