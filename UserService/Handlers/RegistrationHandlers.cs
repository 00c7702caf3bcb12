using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Application;
using UserService.Contracts;
using UserService.Infrastructure;

namespace UserService.Handlers;

/// <summary>What a request id may be: the gateway's GUIDs and clients' Idempotency-Keys are shorter.</summary>
file static class RequestIds
{
    public const int MaxLength = 128;
}

/// <summary><c>users.register</c>: idempotent by request id (the message id, or the client's Idempotency-Key).</summary>
internal sealed class RegisterUserHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<RegisterUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(RegisterUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, actor: null, () => accounts.RegisterAsync(context.RequestId, request, cancellationToken), cancellationToken);
}

/// <summary><c>users.registration-status</c>: what became of a registration, from the same records.</summary>
internal sealed class GetRegistrationStatusHandler(CommandInbox inbox, IUserStore store) : IRequestHandler<GetRegistrationStatus, CommandStatus>
{
    public async Task<Reply<CommandStatus>> HandleAsync(GetRegistrationStatus request, RequestContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > RequestIds.MaxLength)
        {
            return Reply<CommandStatus>.Fail(ReplyStatus.Invalid, "The request id is required and at most 128 characters.");
        }

        if (await inbox.FindReplyAsync<RegisterUser, UserDto>(request.RequestId, cancellationToken) is { } reply)
        {
            return Reply<CommandStatus>.Ok(reply.IsOk
                ? new CommandStatus(CommandStatus.Succeeded, reply.Value)
                : new CommandStatus(CommandStatus.Failed, Problem: reply.Error, FailureStatus: reply.Status));
        }

        // Created, but the process stopped before it recorded the reply: the account is the outcome.
        if (await store.FindByRegistrationRequestIdAsync(request.RequestId, cancellationToken) is { } user)
        {
            return Reply<CommandStatus>.Ok(new CommandStatus(CommandStatus.Succeeded, user.ToDto()));
        }

        return Reply<CommandStatus>.Ok(new CommandStatus(CommandStatus.Pending));
    }
}

/// <summary>
/// <c>users.command-status</c>: what became of the caller's own command (update, delete, sign-out);
/// another account's command is reported as pending, as an unknown one is.
/// </summary>
internal sealed class GetCommandStatusHandler(CommandInbox inbox) : IRequestHandler<GetCommandStatus, CommandStatus>
{
    public async Task<Reply<CommandStatus>> HandleAsync(GetCommandStatus request, RequestContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > RequestIds.MaxLength || request.Actor is null)
        {
            return Reply<CommandStatus>.Fail(ReplyStatus.Invalid, "The request id and the caller are required.");
        }

        return Reply<CommandStatus>.Ok(await inbox.FindStatusAsync(request.RequestId, request.Actor.UserId, cancellationToken) ?? new CommandStatus(CommandStatus.Pending));
    }
}

/// <summary><c>users.activate</c>: idempotent by nature (the token that activated an account answers again, changing nothing).</summary>
internal sealed class ActivateAccountHandler(Accounts accounts) : IRequestHandler<ActivateAccount, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(ActivateAccount request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.ActivateAsync(context.RequestId, request, cancellationToken);
}

/// <summary>
/// <c>users.send-activation</c>: a new activation link for a pending account. Sent one way: the
/// gateway answers 202 before it is handled, whatever the outcome.
/// </summary>
internal sealed class SendActivationHandler(Accounts accounts) : IRequestHandler<SendActivation, Empty>
{
    public Task<Reply<Empty>> HandleAsync(SendActivation request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.SendActivationAsync(context.RequestId, request, cancellationToken);
}
