using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Application;
using UserService.Contracts;

namespace UserService.Handlers;

/// <summary>
/// <c>users.request-password-reset</c>: a reset link for an active account. Sent one way: the gateway
/// answers 202 before it is handled, whatever the outcome.
/// </summary>
internal sealed class RequestPasswordResetHandler(Accounts accounts) : IRequestHandler<RequestPasswordReset, Empty>
{
    public Task<Reply<Empty>> HandleAsync(RequestPasswordReset request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.SendPasswordResetAsync(context.RequestId, request, cancellationToken);
}

/// <summary><c>users.reset-password</c>: a new password with the token of a reset link; a redelivery answers as the first delivery did.</summary>
internal sealed class ResetPasswordHandler(Accounts accounts) : IRequestHandler<ResetPassword, Empty>
{
    public Task<Reply<Empty>> HandleAsync(ResetPassword request, RequestContext context, CancellationToken cancellationToken) =>
        accounts.ResetPasswordAsync(context.RequestId, request, cancellationToken);
}
