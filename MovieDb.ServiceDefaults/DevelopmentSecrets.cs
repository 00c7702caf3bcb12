using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MovieDb.ServiceDefaults;

/// <summary>
/// Secret settings (signing keys, the bootstrap admin's password), read the same way in every service:
/// a missing one stops start-up with a message that names the setting and its environment variable,
/// except in Development, where one that may be generated is, and a warning at start-up says so.
/// </summary>
public static class DevelopmentSecrets
{
    /// <summary>
    /// The value of <paramref name="key"/>. When it is not set: in Development, and only when
    /// <paramref name="generate"/> is given, a generated value, with the warning
    /// <paramref name="notice"/>(value) logged at start-up; otherwise an <see cref="InvalidOperationException"/>.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="key">The configuration key, e.g. <c>Admin:Password</c>.</param>
    /// <param name="purpose">What the secret is, as a sentence without its full stop: "It signs the access tokens".</param>
    /// <param name="howToSet">What to set it to, after the environment variable's name in the error: " (the AppHost passes its 'admin-password' parameter)".</param>
    /// <param name="generate">Makes a value for a Development host that has none; null when Development needs it set too.</param>
    /// <param name="notice">The warning for a generated value; it may show the value when someone must type it (a password).</param>
    public static string Read(
        IHostApplicationBuilder builder,
        string key,
        string purpose,
        string howToSet,
        Func<string>? generate = null,
        Func<string, string>? notice = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder.Configuration[key];
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        if (generate is not null && builder.Environment.IsDevelopment())
        {
            var generated = generate();
            var message = notice?.Invoke(generated) ?? $"{key} is not set (Development): using a value generated at start-up.";
            builder.Services.AddHostedService(sp => new GeneratedSecretNotice(sp.GetRequiredService<ILogger<GeneratedSecretNotice>>(), message));
            return generated;
        }

        throw new InvalidOperationException(
            $"{key} is not set. {purpose} and is required{(generate is null ? string.Empty : " outside Development")}: " +
            $"set the environment variable {key.Replace(":", "__", StringComparison.Ordinal)}{howToSet}.");
    }

    private sealed class GeneratedSecretNotice(ILogger<GeneratedSecretNotice> logger, string message) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogWarning("{Notice}", message);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
