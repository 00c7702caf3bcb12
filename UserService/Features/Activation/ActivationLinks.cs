using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.Activation;

/// <summary>
/// The activation link, which proves a mailbox: at registration (the account's own address) and for
/// a new address the account asks for. Issuing its token, the wait between links, its expiry, and
/// the events that carry the raw token once (the notification service turns them into mails).
/// </summary>
internal sealed class ActivationLinks(AccountAccess accounts, LinkMailer mailer, IEventPublisher events, IOptions<AccountOptions> options, TimeProvider time)
{
    /// <summary>
    /// Gives the account a new activation token (replacing any earlier one) and returns the raw token.
    /// It expires after <see cref="AccountOptions.ActivationTokenLifetime"/>, and for a pending account
    /// never after the account's own end (<see cref="AccountOptions.PendingAccountLifetime"/> from registration).
    /// </summary>
    public string Issue(User user, string requestId)
    {
        var token = LinkTokens.New();
        var now = User.Timestamp(time);
        var accountEnds = DateTime.SpecifyKind(user.CreatedAt.ToUniversalTime(), DateTimeKind.Utc) + options.Value.PendingAccountLifetime;
        var tokenEnds = now + options.Value.ActivationTokenLifetime;
        user.ActivationTokenHash = LinkTokens.Hash(token);
        user.ActivationTokenIssuedAt = now;
        user.ActivationTokenExpiresAt = user.IsPending && accountEnds < tokenEnds ? accountEnds : tokenEnds;
        user.ActivationLinksSent++;
        user.ActivationEventId = Guid.NewGuid().ToString();
        user.ActivationRequestId = requestId;
        return token;
    }

    /// <summary>
    /// Whether the account's last link went out less than <see cref="AccountOptions.ActivationEmailWait"/>
    /// ago. A redelivered request issues its token again at once (its first attempt's may not have gone out).
    /// </summary>
    public bool TooSoon(User user, string requestId) =>
        mailer.TooSoon(user.ActivationLinksSent, user.ActivationTokenIssuedAt, user.ActivationRequestId, requestId);

    /// <summary>Whether the account's current activation token is past its expiry.</summary>
    public bool IsExpired(User user) =>
        user.ActivationTokenExpiresAt is not { } expires || expires.ToUniversalTime() <= time.GetUtcNow().UtcDateTime;

    /// <summary><c>user.registered</c>, with the link's token when the account is pending.</summary>
    public Task PublishRegisteredAsync(User user, string? token, CancellationToken cancellationToken) =>
        events.PublishAsync(
            new UserRegistered(
                // Without a token there is no mail to tell apart; the id still names the event.
                token is null ? Guid.NewGuid().ToString() : user.ActivationEventId!,
                user.Id,
                user.UserName,
                user.Email,
                token,
                token is null ? null : LinkTokens.Utc(user.ActivationTokenExpiresAt!.Value),
                time.GetUtcNow()),
            cancellationToken);

    /// <summary><c>user.email-change-requested</c>: the link that confirms the account's new address, mailed to it.</summary>
    public Task PublishEmailChangeAsync(User user, string token, CancellationToken cancellationToken) =>
        events.PublishAsync(
            new UserEmailChangeRequested(user.ActivationEventId!, user.Id, user.UserName, user.PendingEmail!, token, LinkTokens.Utc(user.ActivationTokenExpiresAt!.Value), time.GetUtcNow()),
            cancellationToken);

    /// <summary>
    /// A redelivered registration: the account is stored, and its <c>user.registered</c> may or may
    /// not have gone out. Only the token's hash was kept, so a pending account is given a new token
    /// (should the first event have gone out after all, its link stops working and the newer mail
    /// carries the one that works).
    /// </summary>
    public async Task<Reply<UserDto>> RepublishRegisteredAsync(User created, string requestId, CancellationToken cancellationToken)
    {
        if (!created.IsPending)
        {
            await PublishRegisteredAsync(created, null, cancellationToken);
            return Reply<UserDto>.Ok(created.ToDto());
        }

        string? token = null;
        return await accounts.ChangeAsync(created.Id, AccountAccess.Anonymous, requestId: null, user =>
        {
            // Activated meanwhile: someone used the first mail's link, so it went out.
            if (!user.IsPending)
            {
                return Task.FromResult<Reply<UserDto>?>(Reply<UserDto>.Ok(user.ToDto()));
            }

            token = Issue(user, requestId);
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
    public async Task<Reply<UserDto>> RepublishEmailChangeAsync(User applied, string requestId, CancellationToken cancellationToken)
    {
        if (applied.PendingEmail is null || applied.ActivationRequestId != requestId)
        {
            return Reply<UserDto>.Ok(applied.ToDto());
        }

        string? token = null;
        return await accounts.ChangeAsync(applied.Id, AccountAccess.Anonymous, requestId: null, user =>
        {
            token = null;
            if (user.PendingEmail is null || user.ActivationRequestId != requestId)
            {
                return Task.FromResult<Reply<UserDto>?>(Reply<UserDto>.Ok(user.ToDto()));
            }

            token = Issue(user, requestId);
            return Task.FromResult<Reply<UserDto>?>(null);
        }, async user =>
        {
            await PublishEmailChangeAsync(user, token!, cancellationToken);
            return Reply<UserDto>.Ok(user.ToDto());
        }, cancellationToken);
    }
}
