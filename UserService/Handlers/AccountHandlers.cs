using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Application;

namespace UserService.Handlers;

/// <summary><c>users.get</c>.</summary>
internal sealed class GetUserHandler(Accounts accounts) : IRequestHandler<GetUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(GetUser request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.GetAsync(request.UserId, cancellationToken);
}

/// <summary><c>users.list</c>.</summary>
internal sealed class ListUsersHandler(Accounts accounts) : IRequestHandler<ListUsers, UserPage>
{
    public Task<Reply<UserPage>> HandleAsync(ListUsers request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.ListAsync(request, cancellationToken);
}

/// <summary><c>users.update</c>: idempotent by request id.</summary>
internal sealed class UpdateUserHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<UpdateUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(UpdateUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, () => accounts.UpdateAsync(request, cancellationToken), cancellationToken);
}

/// <summary><c>users.delete</c>: idempotent by request id; publishes <c>user.deleted</c>.</summary>
internal sealed class DeleteUserHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<DeleteUser, Empty>
{
    public Task<Reply<Empty>> HandleAsync(DeleteUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, () => accounts.DeleteAsync(request, cancellationToken), cancellationToken);
}
