using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Features.Activation;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.Registration;

/// <summary>
/// <c>users.register</c>, idempotent by request id (the message id, or the client's Idempotency-Key),
/// and <c>users.registration-status</c>: what became of a registration, from the same records.
/// </summary>
internal sealed partial class RegistrationRequests(
    IUserStore store,
    CommandInbox inbox,
    ActivationLinks links,
    Passwords passwords,
    IOptions<AdminOptions> admin,
    IOptions<AccountOptions> options,
    TimeProvider time,
    ILogger<RegistrationRequests> logger)
    : IRequestHandler<RegisterUser, UserDto>, IRequestHandler<GetRegistrationStatus, CommandStatus>
{
    private const string TakenDetail = "The user name or e-mail address is already registered.";

    public Task<Reply<UserDto>> HandleAsync(RegisterUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, actor: null, () => RegisterAsync(context.RequestId, request, cancellationToken), cancellationToken);

    public async Task<Reply<CommandStatus>> HandleAsync(GetRegistrationStatus request, RequestContext context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.RequestId) || request.RequestId.Length > CommandInbox.MaxRequestIdLength)
        {
            return Reply<CommandStatus>.Fail(ReplyStatus.Invalid, $"The request id is required and at most {CommandInbox.MaxRequestIdLength} characters.");
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

    /// <summary>
    /// Creates the account unless this request id already did. A redelivery after a crash finds the
    /// account by its registration request id (unique) and answers with it: never a second account,
    /// never a false 409.
    /// </summary>
    private async Task<Reply<UserDto>> RegisterAsync(string requestId, RegisterUser command, CancellationToken cancellationToken)
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

            return await links.RepublishRegisteredAsync(created, requestId, cancellationToken);
        }

        var errors = UserRules.Validate(command);
        if (errors.Count > 0)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, "Invalid registration", "One or more fields are invalid.", errors);
        }

        var user = User.Create(
            command.UserName, command.Email, [Role.User], requestId, options.Value.RequireActivation ? AccountState.Pending : AccountState.Active, time);

        // On the account document itself, so the token is stored in the same write as the account.
        var token = user.IsPending ? links.Issue(user, requestId) : null;
        if (await IsTakenAsync(user, cancellationToken))
        {
            return Reply<UserDto>.Fail(ReplyStatus.Conflict, Replies.TakenTitle, TakenDetail);
        }

        user.PasswordHash = passwords.Hash(user, command.Password);
        if (await store.InsertAsync(user, cancellationToken) == UserInsertResult.Duplicate)
        {
            // Lost a race: to another delivery of this very request, or to another registration.
            return await store.FindByRegistrationRequestIdAsync(requestId, cancellationToken) is { } winner
                ? Reply<UserDto>.Ok(winner.ToDto())
                : Reply<UserDto>.Fail(ReplyStatus.Conflict, Replies.TakenTitle, TakenDetail);
        }

        LogRegistered(user.Id, requestId);
        await links.PublishRegisteredAsync(user, token, cancellationToken);
        return Reply<UserDto>.Ok(user.ToDto());
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
        options.Value.ReservedUserNames.Append(admin.Value.UserName).Any(name => UserRules.Skeleton(name) == skeleton);

    [LoggerMessage(Level = LogLevel.Information, Message = "Registered user {UserId} (request {RequestId})")]
    private partial void LogRegistered(string userId, string requestId);
}
