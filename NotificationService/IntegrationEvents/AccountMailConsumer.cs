using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MimeKit;
using MovieDb.Messaging.Events;
using NotificationService.Infrastructure;
using NotificationService.Model;
using NotificationService.Settings;
using UserService.Contracts;

namespace NotificationService.IntegrationEvents;

/// <summary>
/// Sends the mail with a link of <c>user.registered</c> (a new account), <c>user.activation-requested</c>
/// (a new link asked for), <c>user.email-change-requested</c> (a new address to confirm, mailed to it)
/// and <c>user.password-reset-requested</c> (a forgotten password). At least once, and once per event id as far as this machine can tell: a
/// mail the SMTP server accepted is recorded before the event is acknowledged, and an event whose
/// mail is recorded is acknowledged without sending. The remaining window — killed after the server
/// accepted the mail and before it was recorded — sends it twice (docs/reliability.md).
/// </summary>
internal sealed partial class AccountMailConsumer(
    SmtpMailSender sender,
    SentMailLog sent,
    IOptions<NotificationOptions> options,
    TimeProvider time,
    ILogger<AccountMailConsumer> logger) : IEventConsumer<UserRegistered>, IEventConsumer<UserActivationRequested>, IEventConsumer<UserEmailChangeRequested>, IEventConsumer<UserPasswordResetRequested>
{
    // Event ids being sent by this process right now: a second copy in flight at the same moment
    // (a parked event replayed twice) waits for the first instead of sending along with it.
    private static readonly ConcurrentDictionary<string, byte> InFlight = new(StringComparer.Ordinal);

    public Task HandleAsync(UserRegistered message, CancellationToken cancellationToken)
    {
        // No token: the account needs no activation (or the event predates activation, e.g. one that
        // was parked before this service existed and is replayed to its new queue).
        if (string.IsNullOrEmpty(message.ActivationToken) || message.ActivationExpiresAt is null || string.IsNullOrEmpty(message.Email) || string.IsNullOrEmpty(message.EventId))
        {
            LogNothingToSend(message.UserId);
            return Task.CompletedTask;
        }

        return SendAsync(new AccountMail(message.EventId, message.UserId, message.UserName, message.Email, message.ActivationToken, message.ActivationExpiresAt.Value, AccountMailKind.Registration), cancellationToken);
    }

    public Task HandleAsync(UserActivationRequested message, CancellationToken cancellationToken) =>
        SendAsync(new AccountMail(message.EventId, message.UserId, message.UserName, message.Email, message.ActivationToken, message.ActivationExpiresAt, AccountMailKind.NewLink), cancellationToken);

    public Task HandleAsync(UserEmailChangeRequested message, CancellationToken cancellationToken) =>
        SendAsync(new AccountMail(message.EventId, message.UserId, message.UserName, message.NewEmail, message.ConfirmationToken, message.ConfirmationExpiresAt, AccountMailKind.EmailChange), cancellationToken);

    public Task HandleAsync(UserPasswordResetRequested message, CancellationToken cancellationToken) =>
        SendAsync(new AccountMail(message.EventId, message.UserId, message.UserName, message.Email, message.ResetToken, message.ResetExpiresAt, AccountMailKind.PasswordReset), cancellationToken);

    private async Task SendAsync(AccountMail mail, CancellationToken cancellationToken)
    {
        if (mail.ExpiresAt <= time.GetUtcNow())
        {
            // It waited too long (an SMTP outage, a dead letter moved back late): its link would not work.
            LogExpired(mail.EventId, mail.UserId);
            return;
        }

        // Another copy of this event is being sent by this process: wait for it, then look at the record
        // (failing this copy instead would spend its deliveries and dead-letter it while the first succeeds).
        while (!InFlight.TryAdd(mail.EventId, 0))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }

        try
        {
            if (sent.WasSent(mail.EventId))
            {
                LogAlreadySent(mail.EventId, mail.UserId);
                return;
            }

            var settings = options.Value;
            try
            {
                await sender.SendAsync(mail.Compose(MailboxAddress.Parse(settings.From), settings.LinkTemplate(mail.Kind)), cancellationToken);
            }
            catch (MailRefusedException ex)
            {
                // Sending it again cannot help: dead-lettered now for an operator to look at (an activation token
                // stays intact there; a reset token is masked, and the person asks for a new link).
                throw new UnprocessableEventException(ex.Message, ex);
            }

            // From here until the record is written, a crash means this mail is sent again.
            try
            {
                sent.Record(mail.EventId, mail.UserId);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The mail is with the server: failing the event would send it again on every delivery.
                LogRecordFailed(ex, mail.EventId, mail.UserId);
            }

            LogSent(mail.Kind, mail.UserId, mail.EventId);
        }
        finally
        {
            InFlight.TryRemove(mail.EventId, out _);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sent the {Kind} mail of user {UserId} (event {EventId})")]
    private partial void LogSent(AccountMailKind kind, string userId, string eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "The mail of event {EventId} (user {UserId}) was sent before: not sending it again")]
    private partial void LogAlreadySent(string eventId, string userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The link of event {EventId} (user {UserId}) has expired: no mail sent; the user can ask for a new one")]
    private partial void LogExpired(string eventId, string userId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The mail of event {EventId} (user {UserId}) was sent but could not be recorded: a redelivery of the event would send it again")]
    private partial void LogRecordFailed(Exception exception, string eventId, string userId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "user.registered for {UserId} carries no activation token: no mail")]
    private partial void LogNothingToSend(string userId);
}
