using Microsoft.Extensions.Configuration;

namespace MovieDb.ServiceDefaults;

/// <summary>Reading settings that a service cannot run without.</summary>
public static class ConfigurationExtensions
{
    /// <summary>
    /// Returns the value of <paramref name="key"/>, or throws an exception that names the missing
    /// key and the environment variable that would set it.
    /// </summary>
    public static string GetRequiredValue(this IConfiguration configuration, string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new InvalidOperationException(
                $"Configuration value '{key}' is missing. Set it in appsettings, user secrets or the environment variable '{key.Replace(":", "__", StringComparison.Ordinal)}'.");
        }

        return value;
    }

    /// <summary>Returns <c>ConnectionStrings:{name}</c> or throws an exception that names it.</summary>
    public static string GetRequiredConnectionString(this IConfiguration configuration, string name) =>
        configuration.GetRequiredValue($"ConnectionStrings:{name}");
}
