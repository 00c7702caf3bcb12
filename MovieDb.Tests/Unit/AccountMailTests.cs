using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using NotificationService.Infrastructure;
using NotificationService.Model;
using NotificationService.Settings;

namespace MovieDb.Tests.Unit;

/// <summary>The notification service's pieces that need no server: links, mails, SMTP settings, failure kinds.</summary>
public sealed class AccountMailTests
{
    private static AccountMail Mail(string userName = "amelie", string token = "tok_en-0123456789abcdef") =>
        new("event-1", "user-1", userName, "amelie@example.com", token, new DateTimeOffset(2026, 11, 25, 9, 30, 0, TimeSpan.Zero), AccountMailKind.Registration);

    [Theory]
    [InlineData("http://localhost:5090/activate?token={token}", "a+b/c=0123456789", "http://localhost:5090/activate?token=a%2Bb%2Fc%3D0123456789")]
    [InlineData("https://movies.example.com/activate", "abc", "https://movies.example.com/activate?token=abc")]
    [InlineData("https://movies.example.com/activate?lang=en", "abc", "https://movies.example.com/activate?lang=en&token=abc")]
    [InlineData("https://movies.example.com/a/{token}/b", "x y", "https://movies.example.com/a/x%20y/b")]
    public void The_link_is_the_template_with_the_url_encoded_token(string template, string token, string expected) =>
        Assert.Equal(expected, AccountMail.Link(template, token).AbsoluteUri);

    [Fact]
    public void The_mail_for_a_new_address_says_so_and_its_link_asks_the_page_to_confirm_an_address()
    {
        var mail = Mail() with { Kind = AccountMailKind.EmailChange };

        var message = mail.Compose(MailboxAddress.Parse("MovieDb <no-reply@moviedb.local>"), "https://movies.example.com/activate?token={token}");

        Assert.Equal("Confirm your new MovieDb e-mail address", message.Subject);
        Assert.Contains("https://movies.example.com/activate?token=tok_en-0123456789abcdef&for=email", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("keeps its present address", message.TextBody, StringComparison.Ordinal);
        Assert.DoesNotContain("Welcome", message.TextBody, StringComparison.Ordinal);
    }

    [Fact]
    public void The_password_reset_mail_links_to_the_reset_page_and_says_the_password_stays_if_ignored()
    {
        var mail = Mail(userName: "<i>amelie</i>") with { Kind = AccountMailKind.PasswordReset };
        var options = new NotificationOptions { ActivationUrl = "https://movies.example.com/activate", PasswordResetUrl = "https://movies.example.com/reset-password?token={token}" };

        var message = mail.Compose(MailboxAddress.Parse("MovieDb <no-reply@movies.example.com>"), options.LinkTemplate(mail.Kind));

        Assert.Equal("Reset your MovieDb password", message.Subject);
        Assert.Contains("https://movies.example.com/reset-password?token=tok_en-0123456789abcdef", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("href=\"https://movies.example.com/reset-password?token=tok_en-0123456789abcdef\"", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("activate", message.TextBody, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("your password stays as it is", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("&lt;i&gt;amelie&lt;/i&gt;", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<i>amelie", message.HtmlBody, StringComparison.Ordinal);
        Assert.Equal("password-reset.event-1@movies.example.com", message.MessageId);
    }

    [Fact]
    public void A_reset_link_template_that_is_not_an_absolute_http_url_is_refused_naming_its_setting()
    {
        var problem = NotificationService.Extensions.Extensions.Check(new NotificationOptions { PasswordResetUrl = "/reset-password" });

        Assert.Contains("Notifications:PasswordResetUrl", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/activate?token={token}")]
    [InlineData("ftp://example.com/activate")]
    [InlineData("not a url")]
    public void A_template_that_is_not_an_absolute_http_url_is_refused_naming_the_setting(string template)
    {
        var error = Assert.Throws<InvalidOperationException>(() => AccountMail.Link(template, "abc"));
        Assert.Contains("Notifications:ActivationUrl", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_mail_has_plain_text_and_html_with_the_link_and_a_message_id_of_its_event()
    {
        var message = Mail().Compose(MailboxAddress.Parse("MovieDb <no-reply@movies.example.com>"), "https://movies.example.com/activate?token={token}");

        var alternative = Assert.IsType<MultipartAlternative>(message.Body);
        Assert.Equal(2, alternative.Count);
        Assert.Contains("https://movies.example.com/activate?token=tok_en-0123456789abcdef", message.TextBody, StringComparison.Ordinal);
        Assert.Contains("href=\"https://movies.example.com/activate?token=tok_en-0123456789abcdef\"", message.HtmlBody, StringComparison.Ordinal);
        Assert.Contains("25 November 2026, 09:30 UTC", message.TextBody, StringComparison.Ordinal);
        Assert.Equal("activation.event-1@movies.example.com", message.MessageId);
        Assert.Equal("amelie@example.com", message.To.Mailboxes.Single().Address);
        Assert.Equal("no-reply@movies.example.com", message.From.Mailboxes.Single().Address);
        Assert.Equal("Activate your MovieDb account", message.Subject);
    }

    [Fact]
    public void Names_are_html_encoded_in_the_html_body()
    {
        var message = Mail(userName: "<b>bold</b>").Compose(MailboxAddress.Parse("no-reply@example.com"), "https://example.com/activate");

        Assert.Contains("&lt;b&gt;bold&lt;/b&gt;", message.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<b>bold", message.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public void A_local_smtp_uri_gives_host_and_port_and_uses_tls_only_when_offered()
    {
        var settings = SmtpSettings.Parse("smtp://localhost:1025", "mail");

        Assert.Equal(("localhost", 1025, SecureSocketOptions.StartTlsWhenAvailable, (string?)null, (string?)null), (settings.Host, settings.Port, settings.Security, settings.UserName, settings.Password));
    }

    [Fact]
    public void Credentials_are_url_decoded_require_starttls_on_the_network_and_never_show_in_logs()
    {
        var settings = SmtpSettings.Parse("smtp://moviedb.app%40contoso:p%3Ass%2Fw0rd@smtp.azurecommunication.net:587", "mail");

        Assert.Equal(("smtp.azurecommunication.net", 587, SecureSocketOptions.StartTls), (settings.Host, settings.Port, settings.Security));
        Assert.Equal(("moviedb.app@contoso", "p:ss/w0rd"), (settings.UserName, settings.Password));
        Assert.DoesNotContain("w0rd", settings.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smtps://smtp.example.com", 465, SecureSocketOptions.SslOnConnect)]
    [InlineData("smtp://smtp.example.com", 25, SecureSocketOptions.StartTlsWhenAvailable)]
    [InlineData("smtp://u:p@127.0.0.1:2525", 2525, SecureSocketOptions.StartTlsWhenAvailable)]
    public void Ports_default_by_scheme_and_tls_follows_it(string uri, int port, SecureSocketOptions security)
    {
        var settings = SmtpSettings.Parse(uri, "mail");
        Assert.Equal((port, security), (settings.Port, settings.Security));
    }

    [Theory]
    [InlineData(null, "is not set")]
    [InlineData("", "is not set")]
    [InlineData("localhost:1025", "is not an SMTP URI")]
    [InlineData("http://localhost:1025", "is not an SMTP URI")]
    [InlineData("Endpoint=smtp://localhost:1025", "is not an SMTP URI")]
    [InlineData("smtp://user@localhost:1025", "without a password")]
    public void A_bad_connection_string_is_refused_saying_what_it_should_be(string? connectionString, string expected)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SmtpSettings.Parse(connectionString, "mail"));
        Assert.Contains("ConnectionStrings:mail", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_a_refusal_of_the_mail_itself_is_final_and_trouble_with_the_server_is_tried_again()
    {
        // The server's trouble, whatever mail it is: tried again (an expired relay password must not
        // dead-letter every mail within seconds).
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new SocketException((int)SocketError.ConnectionRefused)));
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new IOException("connection reset")));
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.ServiceNotAvailable, "421 try later")));
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxBusy, "450 busy")));
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new AuthenticationException("535 bad credentials")));
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new SslHandshakeException("certificate expired")));
        Assert.False(SmtpMailSender.IsRefusalOfThisMail(new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, SmtpStatusCode.CommandNotImplemented, "502 EHLO not implemented")));

        // This mail, for good: dead-lettered at once.
        Assert.True(SmtpMailSender.IsRefusalOfThisMail(new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, SmtpStatusCode.MailboxUnavailable, "550 no such user")));
        Assert.True(SmtpMailSender.IsRefusalOfThisMail(new SmtpCommandException(SmtpErrorCode.SenderNotAccepted, SmtpStatusCode.MailboxNameNotAllowed, "553 sender not allowed")));
        Assert.True(SmtpMailSender.IsRefusalOfThisMail(new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, SmtpStatusCode.ExceededStorageAllocation, "552 too big")));
    }

    [Theory]
    [InlineData("no address at all", "Notifications:From")]
    [InlineData("MovieDb <no-reply@example.com>", null)]
    public void The_sender_must_be_a_mail_address(string from, string? problem) =>
        Assert.Equal(problem is null, NotificationService.Extensions.Extensions.Check(new NotificationOptions { From = from }) is null);
}
