using System.Globalization;
using System.Net;
using MimeKit;
using NotificationService.Settings;

namespace NotificationService.Model;

/// <summary>What an account mail is for.</summary>
public enum AccountMailKind
{
    /// <summary>The link sent at registration.</summary>
    Registration,

    /// <summary>A link asked for again by a pending account (earlier ones no longer work).</summary>
    NewLink,

    /// <summary>The link that confirms a new e-mail address of an active account; it goes to the new address.</summary>
    EmailChange,

    /// <summary>A link that sets a new password of an active account; it goes to the account's address.</summary>
    PasswordReset,
}

/// <summary>One mail with a single-use link (activation, a new address, a password reset), as an event asks for it.</summary>
/// <param name="EventId">Identifies the mail: a repeated event has the same id and is not sent again.</param>
/// <param name="UserId">The account.</param>
/// <param name="UserName">Whom it greets.</param>
/// <param name="Email">Where it goes.</param>
/// <param name="Token">The single-use token of the link.</param>
/// <param name="ExpiresAt">When the link stops working.</param>
/// <param name="Kind">What the link is for.</param>
public sealed record AccountMail(string EventId, string UserId, string UserName, string Email, string Token, DateTimeOffset ExpiresAt, AccountMailKind Kind)
{
    /// <summary>
    /// The link to the web app's page: <paramref name="template"/> (the value of the <c>Notifications</c>
    /// setting <paramref name="setting"/>) with the URL-encoded token.
    /// </summary>
    public static Uri Link(string template, string token, string setting = nameof(NotificationOptions.ActivationUrl))
    {
        ArgumentNullException.ThrowIfNull(template);
        var encoded = Uri.EscapeDataString(token);
        var url = template.Contains("{token}", StringComparison.Ordinal)
            ? template.Replace("{token}", encoded, StringComparison.Ordinal)
            : template + (template.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "token=" + encoded;
        return Uri.TryCreate(url, UriKind.Absolute, out var link) && link.Scheme is "http" or "https"
            ? link
            : throw new InvalidOperationException($"'{NotificationOptions.SectionName}:{setting}' must be an absolute http(s) URL, e.g. https://moviedb.example.com/{(setting == nameof(NotificationOptions.PasswordResetUrl) ? "reset-password" : "activate")}?token={{token}}.");
    }

    /// <summary>The mail: plain text and HTML, from <paramref name="from"/>, with the link built from <paramref name="linkTemplate"/>.</summary>
    public MimeMessage Compose(MailboxAddress from, string linkTemplate)
    {
        ArgumentNullException.ThrowIfNull(from);
        var link = Link(linkTemplate, Token, Kind == AccountMailKind.PasswordReset ? nameof(NotificationOptions.PasswordResetUrl) : nameof(NotificationOptions.ActivationUrl)).AbsoluteUri;
        if (Kind == AccountMailKind.EmailChange)
        {
            // The web app's page words its button for a new address.
            link += (link.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "for=email";
        }

        var expires = ExpiresAt.UtcDateTime.ToString("d MMMM yyyy, HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var (subject, opening, button, ignore) = Wording(Kind);

        var text = $"""
            Hello {UserName},

            {opening}

            {link}

            The link works once, until {expires}. If it has expired, ask for a new one.

            {ignore}
            """;

        var html = $"""
            <!DOCTYPE html>
            <html lang="en">
            <body style="font-family: sans-serif; line-height: 1.5;">
              <p>Hello {Html(UserName)},</p>
              <p>{Html(opening)}</p>
              <p><a href="{Html(link)}" style="display: inline-block; padding: 0.6em 1.2em; background: #1f4e8c; color: #ffffff; text-decoration: none; border-radius: 4px;">{Html(button)}</a></p>
              <p>Or copy this address into your browser:<br><span style="word-break: break-all;">{Html(link)}</span></p>
              <p>The link works once, until {Html(expires)}. If it has expired, ask for a new one.</p>
              <p style="color: #666666;">{Html(ignore)}</p>
            </body>
            </html>
            """;

        var message = new MimeMessage
        {
            Subject = subject,
            // The same id for the same event: a copy sent twice (see docs/reliability.md) is one message
            // to receivers that collapse duplicates by Message-Id.
            MessageId = $"{(Kind == AccountMailKind.PasswordReset ? "password-reset" : "activation")}.{EventId}@{from.Domain}",
            Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody(),
        };
        message.From.Add(from);
        message.To.Add(new MailboxAddress(UserName, Email));
        return message;
    }

    private static string Html(string value) => WebUtility.HtmlEncode(value);

    /// <summary>The subject, the opening line, the button and the "not you?" line of a mail of <paramref name="kind"/>.</summary>
    private static (string Subject, string Opening, string Button, string Ignore) Wording(AccountMailKind kind) => kind switch
    {
        AccountMailKind.NewLink => (
            "Your new MovieDb activation link",
            "Here is the new link to activate your MovieDb account; earlier links no longer work.",
            "Activate my account",
            "Did not sign up for MovieDb? Then ignore this mail: nobody can sign in to an account that is not activated, and it is removed after a few days."),
        AccountMailKind.PasswordReset => (
            "Reset your MovieDb password",
            "Someone asked to reset the password of your MovieDb account. Open this link to choose a new one:",
            "Choose a new password",
            "Did not ask for this? Then ignore this mail: your password stays as it is, and nobody can use the link without this mailbox."),
        AccountMailKind.EmailChange => (
            "Confirm your new MovieDb e-mail address",
            "Your MovieDb account is to use this e-mail address from now on. Open this link to confirm it:",
            "Confirm this address",
            "Did not ask for this? Then ignore this mail: the account keeps its present address until the link is used."),
        _ => (
            "Activate your MovieDb account",
            "Welcome to MovieDb! Open this link to activate your account:",
            "Activate my account",
            "Did not sign up for MovieDb? Then ignore this mail: nobody can sign in to an account that is not activated, and it is removed after a few days."),
    };
}
