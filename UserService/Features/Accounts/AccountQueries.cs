using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Infrastructure;

namespace UserService.Features.Accounts;

/// <summary>
/// Reading accounts: <c>users.get</c>, <c>users.list</c> (admins), <c>users.security-state</c> (what the
/// gateway's cache of rights is refreshed from) and <c>users.command-status</c> (what became of the
/// caller's own command).
/// </summary>
internal sealed class AccountQueries(IUserStore store, AccountAccess accounts, CommandInbox inbox)
    : IRequestHandler<GetUser, UserDto>,
        IRequestHandler<ListUsers, UserPage>,
        IRequestHandler<GetSecurityState, SecurityState>,
        IRequestHandler<GetCommandStatus, CommandStatus>
{
    public async Task<Reply<UserDto>> HandleAsync(GetUser request, RequestContext context, CancellationToken cancellationToken)
    {
        var (caller, refused) = await accounts.CallerAsync<UserDto>(request.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (caller!.Id != request.UserId && !caller.IsAdmin)
        {
            return Replies.Forbidden<UserDto>("Only an admin may read another account.");
        }

        // Reading oneself (GET /api/users/me, the common case) needs no second read: the caller's
        // account was just read, in the same state.
        var user = caller.Id == request.UserId ? caller : await store.FindByIdAsync(request.UserId, cancellationToken);
        return user is not null ? Reply<UserDto>.Ok(user.ToDto()) : Replies.NotFound<UserDto>();
    }

    public async Task<Reply<UserPage>> HandleAsync(ListUsers request, RequestContext context, CancellationToken cancellationToken)
    {
        if (PagingRules.Check(request.Page, request.PageSize) is { Count: > 0 } errors)
        {
            return Reply<UserPage>.Fail(ReplyStatus.Invalid, "Invalid paging", null, errors);
        }

        var (caller, refused) = await accounts.CallerAsync<UserPage>(request.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (!caller!.IsAdmin)
        {
            return Replies.Forbidden<UserPage>("Only an admin may list accounts.");
        }

        var (items, total) = await store.ListAsync(PagingRules.Offset(request.Page, request.PageSize), request.PageSize, cancellationToken);
        return Reply<UserPage>.Ok(new UserPage([.. items.Select(u => u.ToDto())], request.Page, request.PageSize, total));
    }

    public async Task<Reply<SecurityState>> HandleAsync(GetSecurityState request, RequestContext context, CancellationToken cancellationToken) =>
        await store.FindByIdAsync(request.UserId, cancellationToken) is { } user
            ? Reply<SecurityState>.Ok(user.ToSecurityState())
            : Replies.NotFound<SecurityState>();

    /// <summary>The caller's own command (update, delete, sign-out); another account's is reported as pending, as an unknown one is.</summary>
    public async Task<Reply<CommandStatus>> HandleAsync(GetCommandStatus request, RequestContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > CommandInbox.MaxRequestIdLength || request.Actor is null)
        {
            return Reply<CommandStatus>.Fail(ReplyStatus.Invalid, "The request id and the caller are required.");
        }

        return Reply<CommandStatus>.Ok(await inbox.FindStatusAsync(request.RequestId, request.Actor.UserId, cancellationToken) ?? new CommandStatus(CommandStatus.Pending));
    }
}
