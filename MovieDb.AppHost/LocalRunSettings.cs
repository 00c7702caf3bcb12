using Microsoft.Extensions.Configuration;

internal static class LocalRunSettings
{
    /// <summary>A JSON file of more settings (any key the AppHost reads), named by this key.</summary>
    public const string SettingsFileKey = "MovieDb:SettingsFile";

    /// <summary>
    /// Adds the JSON file that <see cref="SettingsFileKey"/> names, if any, over every other source.
    /// DCP starts each project with the AppHost's own environment plus what the model gives it, so a
    /// connection string or password set as an environment variable of the AppHost reaches every
    /// service; in a file, only the AppHost reads it, and each project gets what it references.
    /// </summary>
    public static void AddSettingsFile(this IDistributedApplicationBuilder builder)
    {
        if (builder.Configuration[SettingsFileKey] is { Length: > 0 } path)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(path), optional: false, reloadOnChange: false);
        }
    }

    /// <summary>
    /// Moves each project whose <c>MovieDb:Ports:{name}</c> is set to that port (its <c>http</c>
    /// endpoint, the one its launch profile gives: 5080 for the gateway, …), so that a second copy can
    /// run beside the first.
    /// </summary>
    public static void UsePortsFromConfiguration(this IDistributedApplicationBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var key = $"MovieDb:Ports:{project.Name}";
            if (builder.Configuration[key] is not { Length: > 0 } text)
            {
                continue;
            }

            if (!int.TryParse(text, out var port) || port is < 1 or > 65535)
            {
                throw new DistributedApplicationException($"{key} is '{text}': give a TCP port, 1 to 65535.");
            }

            project.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http").Port = port;
        }
    }
}
