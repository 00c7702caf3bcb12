using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;
using UserService.Model;
using UserService.Settings;

namespace UserService.Application;

/// <summary>
/// Activation: a pending account becomes active through a single-use link. The token is random
/// (256 bits) and only its hash is stored, on the account document, so it is written with the account
/// and a database copy activates nothing. The raw token travels once, in the event the notification
/// service turns into a mail.
/// </summary>
internal sealed partial class Accounts
{
    // Activation comes from whoever holds the link: no account calls.
    private const string AnonymousCaller = "anonymous";

    private const string InvalidLinkTitle = "Invalid activation link";
    private const string InvalidLinkDetail = "This activation link is unknown or has expired. Ask for a new one (POST /api/auth/activation-email).";

    /// <summary>
    /// Activates the account whose current token this is. The token that activated an account
    /// answers again with the account and changes nothing until it would have expired; a replaced,
    /// expired or unknown token is invalid (so an old link found in a mailbox says nothing of the account).
    /// </summary>
    public async Task<Reply<UserDto>> ActivateAsync(string requestId, ActivateAccount command, CancellationToken cancellationToken)
    {
        if (UserRules.CheckActivationToken(command.Token).FirstOrDefault() is { } problem)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, InvalidLinkTitle, problem, new Dictionary<string, string[]> { ["token"] = [problem] });
        }

        var hash = HashToken(command.Token);
        if (await store.FindByActivationTokenHashAsync(hash, cancellationToken) is not { } found)
        {
            return InvalidLink();
        }

        if (!found.IsPending && found.PendingEmail is null)
        {
            return IsExpired(found) ? InvalidLink() : Reply<UserDto>.Ok(found.ToDto());
        }

        return await ChangeAsync(found.Id, AnonymousCaller, requestId, user =>
        {
            if (user.ActivationTokenHash != hash)
            {
                // A new link was sent meanwhile: this one died with it.
                return Task.FromResult<Reply<UserDto>?>(InvalidLink());
            }

            if (IsExpired(user))
            {
                return Task.FromResult<Reply<UserDto>?>(InvalidLink());
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
                return Task.FromResult<Reply<UserDto>?>(null);
            }

            if (!user.IsPending)
            {
                return Task.FromResult<Reply<UserDto>?>(Reply<UserDto>.Ok(user.ToDto()));
            }

            user.State = AccountState.Active;
            user.ActivatedAt = User.Timestamp(time);
            // The wait between links starts afresh for the next one (a new address to confirm).
            user.ActivationLinksSent = 0;
            return Task.FromResult<Reply<UserDto>?>(null);
        }, user =>
        {
            LogActivated(user.Id);
            return Task.FromResult(Reply<UserDto>.Ok(user.ToDto()));
        }, cancellationToken);
    }

    /// <summary>
    /// Sends a pending account a new link (a new token: the previous link stops working), each one
    /// after twice the wait of the one before (<see cref="AccountOptions.ActivationEmailWait"/>), and
    /// none once the account is past <see cref="AccountOptions.PendingAccountLifetime"/> (it is about
    /// to be removed). Answers the same whatever the account and its state: unknown, active, too-soon
    /// and too-old requests do nothing, silently.
    /// </summary>
    public async Task<Reply<Empty>> SendActivationAsync(string requestId, SendActivation command, CancellationToken cancellationToken)
    {
        var user = await FindByUserNameOrEmailAsync(command.UserName, command.Email, cancellationToken);

        if (user is not { IsPending: true })
        {
            LogNoActivationMail(user is null ? "no such account" : "already active");
            return Reply<Empty>.Ok(Empty.Instance);
        }

        return await MailNewLinkAsync(
            user.Id,
            stored => WhyNoNewLink(stored, requestId),
            stored => IssueActivationToken(stored, requestId),
            (stored, token) => new UserActivationRequested(stored.ActivationEventId!, stored.Id, stored.UserName, stored.Email, token, Utc(stored.ActivationTokenExpiresAt!.Value), time.GetUtcNow()),
            LogNoActivationMail,
            cancellationToken);
    }

    /// <summary>
    /// Mails the account a new link unless <paramref name="whyNot"/> names a reason (logged): the
    /// token is issued in the account's conditional write, and the event that carries it published
    /// after it. Answers the same whatever happened: the outcome is nobody's business but the mailbox's.
    /// Not remembered by request id: a redelivery issues the token again (the first may not have gone out).
    /// </summary>
    private async Task<Reply<Empty>> MailNewLinkAsync<TEvent>(
        string userId,
        Func<User, string?> whyNot,
        Func<User, string> issue,
        Func<User, string, TEvent> mail,
        Action<string> logNoMail,
        CancellationToken cancellationToken)
        where TEvent : IEvent
    {
        string? token = null;
        await ChangeAsync<Empty>(userId, AnonymousCaller, requestId: null, stored =>
        {
            token = null;
            if (whyNot(stored) is { } reason)
            {
                logNoMail(reason);
                return Task.FromResult<Reply<Empty>?>(Reply<Empty>.Ok(Empty.Instance));
            }

            token = issue(stored);
            return Task.FromResult<Reply<Empty>?>(null);
        }, async stored =>
        {
            await events.PublishAsync(mail(stored, token!), cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);

        return Reply<Empty>.Ok(Empty.Instance);
    }

    /// <summary>
    /// A redelivered registration: the account is stored, and its <c>user.registered</c> may or may
    /// not have gone out. Only the token's hash was kept, so a pending account is given a new token
    /// (should the first event have gone out after all, its link stops working and the newer mail
    /// carries the one that works).
    /// </summary>
    private async Task<Reply<UserDto>> RepublishRegisteredAsync(User created, string requestId, CancellationToken cancellationToken)
    {
        if (!created.IsPending)
        {
            await PublishRegisteredAsync(created, null, cancellationToken);
            return Reply<UserDto>.Ok(created.ToDto());
        }

        string? token = null;
        return await ChangeAsync(created.Id, AnonymousCaller, requestId: null, user =>
        {
            // Activated meanwhile: someone used the first mail's link, so it went out.
            if (!user.IsPending)
            {
                return Task.FromResult<Reply<UserDto>?>(Reply<UserDto>.Ok(user.ToDto()));
            }

            token = IssueActivationToken(user, requestId);
            return Task.FromResult<Reply<UserDto>?>(null);
        }, async user =>
        {
            await PublishRegisteredAsync(user, token, cancellationToken);
            return Reply<UserDto>.Ok(user.ToDto());
        }, cancellationToken);
    }

    /// <summary>
    /// A redelivered update: when it asked for a new e-mail address that still waits for confirmation,
    /// its mail may not have gone out, and only the token's hash was kept: a new token is mailed (the
    /// earlier link, if it did go out, stops working).
    /// </summary>
    private async Task<Reply<UserDto>> RepublishEmailChangeAsync(User applied, string requestId, CancellationToken cancellationToken)
    {
        if (applied.PendingEmail is null || applied.ActivationRequestId != requestId)
        {
            return Reply<UserDto>.Ok(applied.ToDto());
        }

        string? token = null;
        return await ChangeAsync(applied.Id, AnonymousCaller, requestId: null, user =>
        {
            token = null;
            if (user.PendingEmail is null || user.ActivationRequestId != requestId)
            {
                return Task.FromResult<Reply<UserDto>?>(Reply<UserDto>.Ok(user.ToDto()));
            }

            token = IssueActivationToken(user, requestId);
            return Task.FromResult<Reply<UserDto>?>(null);
        }, async user =>
        {
            await PublishEmailChangeAsync(user, token!, cancellationToken);
            return Reply<UserDto>.Ok(user.ToDto());
        }, cancellationToken);
    }

    private Task PublishEmailChangeAsync(User user, string token, CancellationToken cancellationToken) =>
        events.PublishAsync(
            new UserEmailChangeRequested(user.ActivationEventId!, user.Id, user.UserName, user.PendingEmail!, token, Utc(user.ActivationTokenExpiresAt!.Value), time.GetUtcNow()),
            cancellationToken);

    private Task PublishRegisteredAsync(User user, string? token, CancellationToken cancellationToken) =>
        events.PublishAsync(
            new UserRegistered(
                // Without a token there is no mail to tell apart; the id still names the event.
                token is null ? Guid.NewGuid().ToString() : user.ActivationEventId!,
                user.Id,
                user.UserName,
                user.Email,
                token,
                token is null ? null : Utc(user.ActivationTokenExpiresAt!.Value),
                time.GetUtcNow()),
            cancellationToken);

    /// <summary>Why a pending account gets no new link now, or null when it does.</summary>
    private string? WhyNoNewLink(User user, string requestId)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (!user.IsPending)
        {
            return "already active";
        }

        if (user.CreatedAt.ToUniversalTime() + accountOptions.Value.PendingAccountLifetime <= now)
        {
            return "never activated and about to be removed";
        }

        return TooSoonForNewLink(user, requestId) ? "the last link was sent too recently" : null;
    }

    /// <summary>
    /// Whether the account's last link went out less than <see cref="AccountOptions.ActivationEmailWait"/>
    /// ago. A redelivered request issues its token again at once (its first attempt's may not have gone out).
    /// </summary>
    private bool TooSoonForNewLink(User user, string requestId) =>
        TooSoon(user.ActivationLinksSent, user.ActivationTokenIssuedAt, user.ActivationRequestId, requestId);

    /// <summary>
    /// Whether a link mailed at <paramref name="issued"/>, the <paramref name="linksSent"/>th, went out
    /// less than <see cref="AccountOptions.ActivationEmailWait"/> ago. The request that issued it
    /// (<paramref name="issuedBy"/>), redelivered, is never too soon: its first attempt's mail may not have gone out.
    /// </summary>
    private bool TooSoon(int linksSent, DateTime? issued, string? issuedBy, string requestId) =>
        linksSent > 0
        && issuedBy != requestId
        && issued is { } at
        && time.GetUtcNow().UtcDateTime - at.ToUniversalTime() < accountOptions.Value.ActivationEmailWait(linksSent);

    /// <summary>Whether the account's current activation token is past its expiry.</summary>
    private bool IsExpired(User user) =>
        user.ActivationTokenExpiresAt is not { } expires || expires.ToUniversalTime() <= time.GetUtcNow().UtcDateTime;

    /// <summary>
    /// Gives the account a new activation token (replacing any earlier one) and returns the raw token.
    /// It expires after <see cref="AccountOptions.ActivationTokenLifetime"/>, and for a pending account
    /// never after the account's own end (<see cref="AccountOptions.PendingAccountLifetime"/> from registration).
    /// </summary>
    private string IssueActivationToken(User user, string requestId)
    {
        var token = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = User.Timestamp(time);
        var options = accountOptions.Value;
        var accountEnds = DateTime.SpecifyKind(user.CreatedAt.ToUniversalTime(), DateTimeKind.Utc) + options.PendingAccountLifetime;
        var tokenEnds = now + options.ActivationTokenLifetime;
        user.ActivationTokenHash = HashToken(token);
        user.ActivationTokenIssuedAt = now;
        user.ActivationTokenExpiresAt = user.IsPending && accountEnds < tokenEnds ? accountEnds : tokenEnds;
        user.ActivationLinksSent++;
        user.ActivationEventId = Guid.NewGuid().ToString();
        user.ActivationRequestId = requestId;
        return token;
    }

    private static string HashToken(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value.ToUniversalTime(), DateTimeKind.Utc));

    private static Reply<UserDto> InvalidLink() => Reply<UserDto>.Fail(ReplyStatus.Invalid, InvalidLinkTitle, InvalidLinkDetail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Activated user {UserId}")]
    private partial void LogActivated(string userId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "No activation mail sent: {Reason}")]
    private partial void LogNoActivationMail(string reason);
}
