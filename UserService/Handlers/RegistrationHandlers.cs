using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Application;
using UserService.Infrastructure;

namespace UserService.Handlers;

/// <summary><c>users.register</c>: idempotent by request id (the message id, or the client's Idempotency-Key).</summary>
internal sealed class RegisterUserHandler(Accounts accounts, CommandInbox inbox) : IRequestHandler<RegisterUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(RegisterUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, () => accounts.RegisterAsync(context.RequestId, request, cancellationToken), cancellationToken);
}

/// <summary><c>users.registration-status</c>: what became of a registration, from the same records.</summary>
internal sealed class GetRegistrationStatusHandler(CommandInbox inbox, IUserStore store) : IRequestHandler<GetRegistrationStatus, RegistrationStatus>
{
    public async Task<Reply<RegistrationStatus>> HandleAsync(GetRegistrationStatus request, RequestContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RequestId))
        {
            return Reply<RegistrationStatus>.Fail(ReplyStatus.Invalid, "The request id is required.");
        }

        if (await inbox.FindReplyAsync<RegisterUser, UserDto>(request.RequestId, cancellationToken) is { } reply)
        {
            return Reply<RegistrationStatus>.Ok(reply.IsOk
                ? new RegistrationStatus(RegistrationStatus.Succeeded, reply.Value)
                : new RegistrationStatus(RegistrationStatus.Failed, Problem: reply.Error, FailureStatus: reply.Status));
        }

        // Created, but the process stopped before it recorded the reply: the account is the outcome.
        if (await store.FindByRegistrationRequestIdAsync(request.RequestId, cancellationToken) is { } user)
        {
            return Reply<RegistrationStatus>.Ok(new RegistrationStatus(RegistrationStatus.Succeeded, user.ToDto()));
        }

        return Reply<RegistrationStatus>.Ok(new RegistrationStatus(RegistrationStatus.Pending));
    }
}
