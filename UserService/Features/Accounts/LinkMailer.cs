using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.Accounts;

/// <summary>
/// Mails an account a new link (activation or password reset): the token is issued in the account's
/// conditional write, and the event that carries it is published after it; links wait for each other.
/// </summary>
internal sealed class LinkMailer(AccountAccess accounts, IEventPublisher events, IOptions<AccountOptions> options, TimeProvider time)
{
    /// <summary>
    /// Mails the account a new link unless <paramref name="whyNot"/> names a reason (given to
    /// <paramref name="logNoMail"/>). Answers the same whatever happened: the outcome is nobody's
    /// business but the mailbox's. Not remembered by request id: a redelivery issues the token again
    /// (the first may not have gone out).
    /// </summary>
    public async Task<Reply<Empty>> MailNewLinkAsync<TEvent>(
        string userId,
        Func<User, string?> whyNot,
        Func<User, string> issue,
        Func<User, string, TEvent> mail,
        Action<string> logNoMail,
        CancellationToken cancellationToken)
        where TEvent : IEvent
    {
        string? token = null;
        await accounts.ChangeAsync<Empty>(userId, AccountAccess.Anonymous, requestId: null, stored =>
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
    /// Whether a link mailed at <paramref name="issued"/>, the <paramref name="linksSent"/>th, went out
    /// less than <see cref="AccountOptions.ActivationEmailWait"/> ago. The request that issued it
    /// (<paramref name="issuedBy"/>), redelivered, is never too soon: its first attempt's mail may not have gone out.
    /// </summary>
    public bool TooSoon(int linksSent, DateTime? issued, string? issuedBy, string requestId) =>
        linksSent > 0
        && issuedBy != requestId
        && issued is { } at
        && time.GetUtcNow().UtcDateTime - at.ToUniversalTime() < options.Value.ActivationEmailWait(linksSent);
}
