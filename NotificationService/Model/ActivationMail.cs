using System.Globalization;
using System.Net;
using MimeKit;

namespace NotificationService.Model;

/// <summary>One activation mail, as an event asks for it.</summary>
/// <param name="EventId">Identifies the mail: a repeated event has the same id and is not sent again.</param>
/// <param name="UserId">The account.</param>
/// <param name="UserName">Whom it greets.</param>
/// <param name="Email">Where it goes.</param>
/// <param name="Token">The single-use activation token.</param>
/// <param name="ExpiresAt">When the link stops working.</param>
/// <param name="IsNewLink">True for a link asked for again (not the one sent at registration).</param>
public sealed record ActivationMail(string EventId, string UserId, string UserName, string Email, string Token, DateTimeOffset ExpiresAt, bool IsNewLink)
{
    /// <summary>The link to the activation page: <paramref name="template"/> with the URL-encoded token.</summary>
    public static Uri Link(string template, string token)
    {
        ArgumentNullException.ThrowIfNull(template);
        var encoded = Uri.EscapeDataString(token);
        var url = template.Contains("{token}", StringComparison.Ordinal)
            ? template.Replace("{token}", encoded, StringComparison.Ordinal)
            : template + (template.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "token=" + encoded;
        return Uri.TryCreate(url, UriKind.Absolute, out var link) && link.Scheme is "http" or "https"
            ? link
            : throw new InvalidOperationException($"'{NotificationOptions.SectionName}:ActivationUrl' must be an absolute http(s) URL, e.g. https://moviedb.example.com/activate?token={{token}}.");
    }

    /// <summary>The mail: plain text and HTML, from <paramref name="from"/>, with the link built from <paramref name="activationUrl"/>.</summary>
    public MimeMessage Compose(MailboxAddress from, string activationUrl)
    {
        ArgumentNullException.ThrowIfNull(from);
        var link = Link(activationUrl, Token).AbsoluteUri;
        var expires = ExpiresAt.UtcDateTime.ToString("d MMMM yyyy, HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var subject = IsNewLink ? "Your new MovieDb activation link" : "Activate your MovieDb account";
        var opening = IsNewLink
            ? "Here is the new link to activate your MovieDb account; earlier links no longer work."
            : "Welcome to MovieDb! Open this link to activate your account:";

        var text = $"""
            Hello {UserName},

            {opening}

            {link}

            The link works once, until {expires}. If it has expired, ask for a new one on the sign-in page.

            Did not sign up for MovieDb? Then ignore this mail: nobody can sign in to an account that is not activated, and it is removed after a few days.
            """;

        var html = $"""
            <!DOCTYPE html>
            <html lang="en">
            <body style="font-family: sans-serif; line-height: 1.5;">
              <p>Hello {Html(UserName)},</p>
              <p>{Html(opening)}</p>
              <p><a href="{Html(link)}" style="display: inline-block; padding: 0.6em 1.2em; background: #1f4e8c; color: #ffffff; text-decoration: none; border-radius: 4px;">Activate my account</a></p>
              <p>Or copy this address into your browser:<br><span style="word-break: break-all;">{Html(link)}</span></p>
              <p>The link works once, until {Html(expires)}. If it has expired, ask for a new one on the sign-in page.</p>
              <p style="color: #666666;">Did not sign up for MovieDb? Then ignore this mail: nobody can sign in to an account that is not activated, and it is removed after a few days.</p>
            </body>
            </html>
            """;

        var message = new MimeMessage
        {
            Subject = subject,
            // The same id for the same event: a copy sent twice (see docs/reliability.md) is one message
            // to receivers that collapse duplicates by Message-Id.
            MessageId = $"activation.{EventId}@{from.Domain}",
            Body = new BodyBuilder { TextBody = text, HtmlBody = html }.ToMessageBody(),
        };
        message.From.Add(from);
        message.To.Add(new MailboxAddress(UserName, Email));
        return message;
    }

    private static string Html(string value) => WebUtility.HtmlEncode(value);
}
