using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MimeKit;
using NotificationService.IntegrationEvents;
using NotificationService.Infrastructure;
using NotificationService.Model;
using NotificationService.Settings;
using UserService.Contracts;

namespace NotificationService.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // Its own durable queue: events published while this service is down wait there, and the
        // ones published before it ever ran were parked and are replayed to it when the queue is new.
        builder.AddRabbitMQClient("messaging");
        // Only the user service's word sends a mail: events it did not sign are dead-lettered.
        SigningKeys.Read(builder, "Messaging:EventSigningKey", "the user service's events (it must hold the same key)", generateInDevelopment: false);
        builder.AddEventSubscription("notificationservice.events")
            .On<UserRegistered, AccountMailConsumer>()
            .On<UserActivationRequested, AccountMailConsumer>()
            .On<UserEmailChangeRequested, AccountMailConsumer>()
            .On<UserPasswordResetRequested, AccountMailConsumer>();

        builder.AddMailSender("mail");
    }

    /// <summary>
    /// The SMTP server from <c>ConnectionStrings:{name}</c> (checked now: a bad one stops start-up with
    /// a message that says why), the mail settings (section <c>Notifications</c>, checked at start-up)
    /// and the record of sent mails. A failing SMTP server makes the service Degraded, not unready:
    /// the events wait in the queue meanwhile.
    /// </summary>
    private static void AddMailSender(this IHostApplicationBuilder builder, string connectionName)
    {
        var server = SmtpSettings.Parse(builder.Configuration.GetConnectionString(connectionName), connectionName);
        builder.Services.AddSingleton(server);

        // The default links are the web app on this machine: right in Development, dead links anywhere else.
        foreach (var (setting, page) in new[] { (nameof(NotificationOptions.ActivationUrl), "activate"), (nameof(NotificationOptions.PasswordResetUrl), "reset-password") })
        {
            var key = $"{NotificationOptions.SectionName}:{setting}";
            if (!builder.Environment.IsDevelopment() && string.IsNullOrEmpty(builder.Configuration[key]))
            {
                throw new InvalidOperationException(
                    $"{key} is not set: outside Development the mails need the web app's public address, e.g. https://moviedb.example.com/{page} (the AppHost sets it from the web app's endpoint).");
            }
        }

        // Checked now, while the host is built, so that the message names the setting every time (a
        // failure of ValidateOnStart at host start could surface as the ObjectDisposedException of a
        // start-up torn down half-way: a flaky test showed it). The validator stays for every options instance.
        if (Check(builder.Configuration.GetSection(NotificationOptions.SectionName).Get<NotificationOptions>() ?? new NotificationOptions()) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        builder.Services.AddOptions<NotificationOptions>()
            .BindConfiguration(NotificationOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<NotificationOptions>, NotificationOptionsValidator>();

        builder.Services.AddSingleton<SmtpMailSender>();
        builder.Services.AddSingleton(sp => new SentMailLog(sp.GetRequiredService<IOptions<NotificationOptions>>().Value.SentMailStore, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            connectionName,
            sp => sp.GetRequiredService<SmtpMailSender>(),
            HealthStatus.Degraded,
            tags: null));
    }

    /// <summary>What is wrong with the settings, or null.</summary>
    internal static string? Check(NotificationOptions options)
    {
        try
        {
            AccountMail.Link(options.ActivationUrl, "probe");
            AccountMail.Link(options.PasswordResetUrl, "probe", nameof(NotificationOptions.PasswordResetUrl));
        }
        catch (InvalidOperationException ex)
        {
            return ex.Message;
        }

        if (!MailboxAddress.TryParse(options.From, out var from) || string.IsNullOrEmpty(from.Domain))
        {
            return $"'{NotificationOptions.SectionName}:From' must be a mail address, e.g. MovieDb <no-reply@example.com>.";
        }

        return options.MaxRetryDelay < options.RetryDelay
            ? $"'{NotificationOptions.SectionName}:MaxRetryDelay' must not be shorter than RetryDelay."
            : null;
    }

    /// <summary>Reports the reason itself, so that start-up says which setting is wrong.</summary>
    private sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
    {
        public ValidateOptionsResult Validate(string? name, NotificationOptions options) =>
            Check(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}
