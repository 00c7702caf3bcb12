using Microsoft.Extensions.DependencyInjection;
using MovieDb.Tests.Infrastructure;
using NotificationService;

namespace MovieDb.Tests.EndToEnd.Activation;

/// <summary>Start-up rules of the notification service's configuration: it says which setting is wrong.</summary>
public sealed class NotificationConfigurationTests
{
    // Settings left null are left out.
    private static Dictionary<string, string?> Minimal(string? activationUrl, string? mail = "smtp://127.0.0.1:2525", string? passwordResetUrl = "https://moviedb.example.com/reset-password") => new Dictionary<string, string?>
    {
        ["ConnectionStrings:messaging"] = "amqp://guest:guest@127.0.0.1:1/",
        ["Aspire:RabbitMQ:Client:MaxConnectRetryCount"] = "0",
        ["ConnectionStrings:mail"] = mail,
        ["Notifications:ActivationUrl"] = activationUrl,
        ["Notifications:PasswordResetUrl"] = passwordResetUrl,
        ["Messaging:EventSigningKey"] = InProcessSystem.EventSigningKey,
        ["Notifications:SentMailStore"] = $"Filename={Path.Combine(Path.GetTempPath(), "moviedb-tests", $"sent-{Guid.NewGuid():N}.db")}",
    }.Where(setting => setting.Value is not null).ToDictionary();

    [Fact]
    public void Outside_Development_the_notification_service_refuses_to_start_without_the_web_apps_address()
    {
        using var factory = new ServiceFactory<NotificationServiceApp>(Minimal(activationUrl: null), "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("Notifications:ActivationUrl is not set", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Outside_Development_the_notification_service_refuses_to_start_without_the_address_of_the_reset_page()
    {
        using var factory = new ServiceFactory<NotificationServiceApp>(Minimal(activationUrl: "https://moviedb.example.com/activate", passwordResetUrl: null), "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("Notifications:PasswordResetUrl is not set", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void In_Development_the_links_default_to_the_local_web_app()
    {
        using var factory = new ServiceFactory<NotificationServiceApp>(Minimal(activationUrl: null, passwordResetUrl: null), "Development");

        var options = factory.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<NotificationService.Settings.NotificationOptions>>().Value;

        Assert.Equal("http://localhost:5090/activate?token={token}", options.ActivationUrl);
        Assert.Equal("http://localhost:5090/reset-password?token={token}", options.PasswordResetUrl);
    }

    [Theory]
    [InlineData("ftp://example.com/activate", "smtp://127.0.0.1:2525", "Notifications:ActivationUrl")]
    [InlineData("https://moviedb.example.com/activate", null, "ConnectionStrings:mail")]
    [InlineData("https://moviedb.example.com/activate", "smtp://127.0.0.1:2525", "Notifications:PasswordResetUrl", "/reset-password")]
    public void A_bad_link_or_a_missing_mail_server_stops_start_up_naming_the_setting(string activationUrl, string? mail, string named, string? passwordResetUrl = "https://moviedb.example.com/reset-password")
    {
        using var factory = new ServiceFactory<NotificationServiceApp>(Minimal(activationUrl, mail, passwordResetUrl), "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public void Without_the_key_of_the_user_services_events_the_notification_service_refuses_to_start_in_every_environment(string environment)
    {
        var settings = Minimal(activationUrl: "https://moviedb.example/activate");
        settings.Remove("Messaging:EventSigningKey");
        using var factory = new ServiceFactory<NotificationServiceApp>(settings, environment);

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("Messaging:EventSigningKey is not set", error.ToString(), StringComparison.Ordinal);
    }
}
