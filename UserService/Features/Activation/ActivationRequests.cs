using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.Activation;

/// <summary>
/// <c>users.activate</c> and <c>users.send-activation</c>: a pending account becomes active through a
/// single-use link, and a new address takes effect through the link mailed to it
/// (<see cref="ActivationLinks"/>).
/// </summary>
internal sealed partial class ActivationRequests(
    IUserStore store,
    AccountAccess accounts,
    ActivationLinks links,
    LinkMailer mailer,
    IOptions<AccountOptions> options,
    TimeProvider time,
    ILogger<ActivationRequests> logger)
    : IRequestHandler<ActivateAccount, UserDto>, IRequestHandler<SendActivation, Empty>
{
    private const string InvalidLinkTitle = "Invalid activation link";
    private const string InvalidLinkDetail = "This activation link is unknown or has expired. Ask for a new one (POST /api/auth/activation-email).";

    /// <summary>
    /// Activates the account whose current token this is (or moves it to the address the link was
    /// mailed to). Idempotent by nature: the token that activated an account answers again with the
    /// account and changes nothing until it would have expired; a replaced, expired or unknown token is
    /// invalid (so an old link found in a mailbox says nothing of the account).
    /// </summary>
    public async Task<Reply<UserDto>> HandleAsync(ActivateAccount request, RequestContext context, CancellationToken cancellationToken)
    {
        if (UserRules.CheckActivationToken(request.Token).FirstOrDefault() is { } problem)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, InvalidLinkTitle, problem, new Dictionary<string, string[]> { ["token"] = [problem] });
        }

        var hash = LinkTokens.Hash(request.Token);
        if (await store.FindByActivationTokenHashAsync(hash, cancellationToken) is not { } found)
        {
            return InvalidLink();
        }

        if (!found.IsPending && found.PendingEmail is null)
        {
            return links.IsExpired(found) ? InvalidLink() : Reply<UserDto>.Ok(found.ToDto());
        }

        return await accounts.ChangeAsync(found.Id, AccountAccess.Anonymous, context.RequestId, user =>
            Task.FromResult(Activate(user, hash)), user =>
        {
            LogActivated(user.Id);
            return Task.FromResult(Reply<UserDto>.Ok(user.ToDto()));
        }, cancellationToken);
    }

    /// <summary>
    /// Sends a pending account a new link (a new token: the previous link stops working), each one
    /// after twice the wait of the one before (<see cref="AccountOptions.ActivationEmailWait"/>), and
    /// none once the account is past <see cref="AccountOptions.PendingAccountLifetime"/> (it is about
    /// to be removed). Sent one way: the gateway answers 202 before it is handled, and unknown, active,
    /// too-soon and too-old requests do nothing, silently.
    /// </summary>
    public async Task<Reply<Empty>> HandleAsync(SendActivation request, RequestContext context, CancellationToken cancellationToken)
    {
        var user = await accounts.FindByUserNameOrEmailAsync(request.UserName, request.Email, cancellationToken);
        if (user is not { IsPending: true })
        {
            LogNoActivationMail(user is null ? "no such account" : "already active");
            return Reply<Empty>.Ok(Empty.Instance);
        }

        return await mailer.MailNewLinkAsync(
            user.Id,
            stored => WhyNoNewLink(stored, context.RequestId),
            stored => links.Issue(stored, context.RequestId),
            (stored, token) => new UserActivationRequested(
                stored.ActivationEventId!, stored.Id, stored.UserName, stored.Email, token, LinkTokens.Utc(stored.ActivationTokenExpiresAt!.Value), time.GetUtcNow()),
            LogNoActivationMail,
            cancellationToken);
    }

    /// <summary>What the link with <paramref name="hash"/> does to <paramref name="user"/>: null when it changed it, else the answer.</summary>
    private Reply<UserDto>? Activate(User user, string hash)
    {
        // A new link was sent meanwhile (this one died with it), or this one expired.
        if (user.ActivationTokenHash != hash || links.IsExpired(user))
        {
            return InvalidLink();
        }

        if (user.PendingEmail is { } newEmail)
        {
            // A new address proven by its owner. Taken by another account meanwhile: the store's
            // unique index refuses the write, and the answer is 409.
            user.Email = newEmail;
            user.NormalizedEmail = UserRules.NormalizeEmail(newEmail);
            user.PendingEmail = null;
            user.ActivationLinksSent = 0;
            user.EmailSetByAdmin = false;
            user.ForgetPasswordResetLink();
            return null;
        }

        if (!user.IsPending)
        {
            return Reply<UserDto>.Ok(user.ToDto());
        }

        user.State = AccountState.Active;
        user.ActivatedAt = User.Timestamp(time);
        // The wait between links starts afresh for the next one (a new address to confirm).
        user.ActivationLinksSent = 0;
        return null;
    }

    /// <summary>Why a pending account gets no new link now, or null when it does.</summary>
    private string? WhyNoNewLink(User user, string requestId)
    {
        if (!user.IsPending)
        {
            return "already active";
        }

        if (user.CreatedAt.ToUniversalTime() + options.Value.PendingAccountLifetime <= time.GetUtcNow().UtcDateTime)
        {
            return "never activated and about to be removed";
        }

        return links.TooSoon(user, requestId) ? "the last link was sent too recently" : null;
    }

    private static Reply<UserDto> InvalidLink() => Reply<UserDto>.Fail(ReplyStatus.Invalid, InvalidLinkTitle, InvalidLinkDetail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Activated user {UserId}")]
    private partial void LogActivated(string userId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No activation mail sent: {Reason}")]
    private partial void LogNoActivationMail(string reason);
}
