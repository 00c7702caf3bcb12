using System.Net;
using MailKit.Security;

namespace NotificationService.Model;

/// <summary>
/// The SMTP server, from the connection string an Aspire resource injects:
/// <c>smtp://host:port</c>, optionally <c>smtp://user:password@host:port</c> (user and password
/// URL-encoded), or <c>smtps://…</c> for TLS from the first byte (port 465).
/// </summary>
public sealed record SmtpSettings(string Host, int Port, SecureSocketOptions Security, string? UserName, string? Password)
{
    /// <summary>Parses <paramref name="connectionString"/>; throws with a message that says what is wrong and how it should look.</summary>
    public static SmtpSettings Parse(string? connectionString, string name)
    {
        var key = $"ConnectionStrings:{name}";
        const string Shape = "an SMTP URI such as smtp://localhost:1025, smtp://user:password@smtp.example.com:587 or smtps://smtp.example.com:465";
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException($"'{key}' is not set: it must be {Shape} (environment variable ConnectionStrings__{name}).");
        }

        if (!Uri.TryCreate(connectionString.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("smtp" or "smtps"))
        {
            throw new InvalidOperationException($"'{key}' is not {Shape}.");
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new InvalidOperationException($"'{key}' names no host: it must be {Shape}.");
        }

        var port = uri.IsDefaultPort || uri.Port <= 0 ? (uri.Scheme == "smtps" ? 465 : 25) : uri.Port;
        string? user = null, password = null;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var separator = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(separator < 0 ? uri.UserInfo : uri.UserInfo[..separator]);
            password = separator < 0 ? null : Uri.UnescapeDataString(uri.UserInfo[(separator + 1)..]);
            if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(password))
            {
                throw new InvalidOperationException($"'{key}' has a user without a password (or the other way round): give both, URL-encoded, as smtp://user:password@host:port.");
            }
        }

        // A password crosses the network only encrypted: STARTTLS is required then, except on this machine.
        var loopback = uri.IsLoopback || (IPAddress.TryParse(uri.Host, out var address) && IPAddress.IsLoopback(address));
        var security = uri.Scheme == "smtps"
            ? SecureSocketOptions.SslOnConnect
            : user is not null && !loopback ? SecureSocketOptions.StartTls : SecureSocketOptions.StartTlsWhenAvailable;
        return new SmtpSettings(uri.Host, port, security, user, password);
    }

    /// <summary>Where mail goes, for logs: never the password.</summary>
    public override string ToString() => $"{(Security == SecureSocketOptions.SslOnConnect ? "smtps" : "smtp")}://{(UserName is null ? string.Empty : UserName + "@")}{Host}:{Port}";
}
