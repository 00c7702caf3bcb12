using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.PasswordReset;

/// <summary>
/// A forgotten password: a single-use link mailed to the account's address sets a new one. As for
/// activation, the token is random (256 bits), only its hash is stored on the account document, and
/// the raw token travels once, in the event the notification service turns into a mail. A reset link
/// works for <see cref="AccountOptions.PasswordResetTokenLifetime"/>, once, and only while it is the
/// newest one and the account keeps the address, password and roles it had when the link was mailed.
/// <c>users.request-password-reset</c> is sent one way (the gateway answers 202 before it is handled,
/// whatever the outcome); <c>users.reset-password</c>, redelivered, answers as the first delivery did.
/// </summary>
internal sealed partial class PasswordResetRequests(
    IUserStore store,
    AccountAccess accounts,
    LinkMailer mailer,
    Passwords passwords,
    IOptions<AccountOptions> options,
    TimeProvider time,
    ILogger<PasswordResetRequests> logger)
    : IRequestHandler<RequestPasswordReset, Empty>, IRequestHandler<ResetPassword, Empty>
{
    private const string InvalidResetLinkTitle = "Invalid password-reset link";

    /// <summary>
    /// Mails an active account a new reset link (an earlier one stops working), each one after twice
    /// the wait of the one before, counted afresh after a reset or a day without a link. Answers the
    /// same whatever the account and its state: unknown, pending and too-soon requests do nothing,
    /// silently. A pending account gets nothing: it cannot sign in with any password until its
    /// activation link is used, and that link is what it should ask for.
    /// </summary>
    public async Task<Reply<Empty>> HandleAsync(RequestPasswordReset request, RequestContext context, CancellationToken cancellationToken)
    {
        var user = await accounts.FindByUserNameOrEmailAsync(request.UserName, request.Email, cancellationToken);
        if (user is not { MayGetPasswordResetLink: true })
        {
            LogNoResetMail(user is null ? "no such account" : user.IsPending ? "not activated yet" : "an admin's address set by another admin and not proven by the account");
            return Reply<Empty>.Ok(Empty.Instance);
        }

        return await mailer.MailNewLinkAsync(
            user.Id,
            stored => !stored.MayGetPasswordResetLink ? "the account changed meanwhile"
                : TooSoonForResetLink(stored, context.RequestId) ? "the last link was sent too recently"
                : null,
            stored => IssueResetToken(stored, context.RequestId),
            (stored, token) => new UserPasswordResetRequested(stored.PasswordResetEventId!, stored.Id, stored.UserName, stored.Email, token, LinkTokens.Utc(stored.PasswordResetExpiresAt!.Value), time.GetUtcNow()),
            LogNoResetMail,
            cancellationToken);
    }

    /// <summary>
    /// Sets the password of the account whose current reset token this is, under the rules of a
    /// change, and gives it a new security stamp: every session and access token ends. A redelivered
    /// command finds itself on the account and answers as it did.
    /// </summary>
    public async Task<Reply<Empty>> HandleAsync(ResetPassword request, RequestContext context, CancellationToken cancellationToken)
    {
        if (UserRules.CheckResetToken(request.Token).FirstOrDefault() is { } problem)
        {
            return Reply<Empty>.Fail(ReplyStatus.Invalid, InvalidResetLinkTitle, problem, new Dictionary<string, string[]> { ["token"] = [problem] });
        }

        var hash = LinkTokens.Hash(request.Token);
        if (await store.FindByPasswordResetTokenHashAsync(hash, cancellationToken) is not { } found)
        {
            return ResetLinkRefused("This password-reset link is unknown, or the account's address, password or roles changed since it was sent. Ask for a new link.");
        }

        string? newHash = null;
        var reply = await accounts.ChangeAsync(found.Id, AccountAccess.Anonymous, context.RequestId, user =>
        {
            if (WhyResetLinkRefused(user, hash) is { } why)
            {
                return Task.FromResult<Reply<Empty>?>(ResetLinkRefused(why));
            }

            if (UserRules.CheckPassword(request.NewPassword).ToArray() is { Length: > 0 } problems)
            {
                return Task.FromResult<Reply<Empty>?>(Reply<Empty>.Fail(ReplyStatus.Invalid, "Invalid password", "The new password does not meet the rules.", new Dictionary<string, string[]> { ["newPassword"] = problems }));
            }

            // Hashed once, however often a concurrent change makes this run again.
            newHash ??= passwords.Hash(user, request.NewPassword);
            user.PasswordHash = newHash;
            user.SecurityStamp = User.NewStamp();
            user.PasswordResetUsedAt = User.Timestamp(time);
            user.PasswordResetLinksSent = 0;

            // Whoever asked for a new address with the old password does not get the account through it.
            user.DropPendingEmail();
            return Task.FromResult<Reply<Empty>?>(null);
        }, async user =>
        {
            await accounts.PublishSecurityChangeAsync(user, cancellationToken);
            LogPasswordReset(user.Id);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);

        // Deleted meanwhile: the link died with the account.
        return reply.Status == ReplyStatus.NotFound ? ResetLinkRefused("This password-reset link is unknown. Ask for a new one.") : reply;
    }

    /// <summary>Why the token with <paramref name="hash"/> sets no password of <paramref name="user"/> now, or null when it does.</summary>
    private string? WhyResetLinkRefused(User user, string hash) =>
        user.PasswordResetTokenHash != hash
            ? user.PasswordResetReplacedTokenHash == hash
                ? "A newer password-reset link was sent: use the newest mail."
                : "This password-reset link no longer works: the account's address, password or roles changed since it was sent. Ask for a new link."
            : user.PasswordResetUsedAt is not null
                ? "This password-reset link was already used. If that was not you, ask for a new link."
                : user.PasswordResetExpiresAt is not { } expires || expires.ToUniversalTime() <= time.GetUtcNow().UtcDateTime
                    ? "This password-reset link has expired. Ask for a new one."
                    : null;

    /// <summary>
    /// Whether the account's last reset link went out less than the doubling wait ago. A redelivered
    /// request issues its token again at once (its first attempt's may not have gone out).
    /// </summary>
    private bool TooSoonForResetLink(User user, string requestId) =>
        mailer.TooSoon(user.PasswordResetLinksSent, user.PasswordResetIssuedAt, user.PasswordResetRequestId, requestId);

    /// <summary>Gives the account a new reset token (replacing any earlier one) and returns the raw token.</summary>
    private string IssueResetToken(User user, string requestId)
    {
        var now = User.Timestamp(time);
        if (user.PasswordResetIssuedAt is { } last && now - last.ToUniversalTime() >= AccountOptions.MaxActivationEmailInterval)
        {
            // A day without a link: the next one does not wait for a forgetful week of last month.
            user.PasswordResetLinksSent = 0;
        }

        var token = LinkTokens.New();
        // The link this one replaces is remembered, so that its mail is answered "a newer link was sent"
        // (a used one is forgotten: it did its work).
        user.PasswordResetReplacedTokenHash = user.PasswordResetUsedAt is null ? user.PasswordResetTokenHash : null;
        user.PasswordResetTokenHash = LinkTokens.Hash(token);
        user.PasswordResetIssuedAt = now;
        user.PasswordResetExpiresAt = now + options.Value.PasswordResetTokenLifetime;
        user.PasswordResetUsedAt = null;
        user.PasswordResetLinksSent++;
        user.PasswordResetEventId = Guid.NewGuid().ToString();
        user.PasswordResetRequestId = requestId;
        return token;
    }

    private static Reply<Empty> ResetLinkRefused(string detail) =>
        Reply<Empty>.Fail(ReplyStatus.Invalid, InvalidResetLinkTitle, detail, new Dictionary<string, string[]> { ["token"] = [detail] });

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId} set a new password with a reset link")]
    private partial void LogPasswordReset(string userId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No password-reset mail sent: {Reason}")]
    private partial void LogNoResetMail(string reason);
}
