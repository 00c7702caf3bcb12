using System.Reflection;
using Microsoft.Extensions.Configuration;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Unit;

/// <summary>
/// No dead keys: every key in every appsettings*.json is read by something. A key that binds to
/// nothing — misspelt, or left behind when its setting was removed — changes nothing when edited,
/// and an operator who edits it is misled.
/// </summary>
public sealed class AppSettingsTests
{
    // Read by ASP.NET Core, YARP (which refuses what it does not know at start-up) and service discovery.
    private static readonly string[] FrameworkKeys = ["Logging:LogLevel:", "AllowedHosts", "ReverseProxy:", "services:"];

    // Where the settings of each project's options classes come from: its own assembly and the shared libraries.
    private static readonly Dictionary<string, Assembly[]> Projects = new(StringComparer.Ordinal)
    {
        ["Gateway"] = [typeof(Gateway.GatewayApp).Assembly],
        ["MovieService"] = [typeof(MovieService.MovieServiceApp).Assembly],
        ["UserService"] = [typeof(UserService.UserServiceApp).Assembly],
        ["NotificationService"] = [typeof(NotificationService.NotificationServiceApp).Assembly],
        ["WebApp"] = [typeof(WebApp.WebAppApp).Assembly],
        ["MovieDb.AppHost"] = [],
    };

    private static readonly Assembly[] Shared =
    [
        typeof(MovieDb.ServiceDefaults.PagingRules).Assembly,
        typeof(MovieDb.Messaging.MessagingOptions).Assembly,
        typeof(MovieDb.Caching.SharedCache).Assembly,
    ];

    public static TheoryData<string> Files()
    {
        var files = new TheoryData<string>();
        foreach (var project in Projects.Keys)
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, project), "appsettings*.json").Order(StringComparer.Ordinal))
            {
                files.Add($"{project}/{Path.GetFileName(file)}");
            }
        }

        return files;
    }

    [Fact]
    public void Every_project_with_settings_files_is_checked()
    {
        var withSettings = Directory.EnumerateFiles(RepositoryPaths.Root, "appsettings*.json", SearchOption.AllDirectories)
            .Select(path => Path.GetRelativePath(RepositoryPaths.Root, path).Split(Path.DirectorySeparatorChar))
            .Where(parts => parts.Length == 2)
            .Select(parts => parts[0])
            .ToHashSet(StringComparer.Ordinal);

        Assert.Subset(Projects.Keys.ToHashSet(StringComparer.Ordinal), withSettings);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Every_key_binds_to_a_setting_the_project_reads(string file)
    {
        var project = file.Split('/')[0];
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryPaths.Root, file)).Build();
        // The shared libraries' sections count only for a project that references them.
        var references = Projects[project].SelectMany(assembly => assembly.GetReferencedAssemblies()).Select(name => name.Name).ToHashSet(StringComparer.Ordinal);
        var sections = Projects[project].Concat(Shared.Where(shared => references.Contains(shared.GetName().Name)))
            .SelectMany(assembly => assembly.GetTypes())
            .Select(type => (Type: type, Name: type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string))
            .Where(options => options.Name is not null)
            .ToDictionary(options => options.Name!, options => options.Type, StringComparer.Ordinal);
        var source = string.Concat(Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, project), "*.cs", SearchOption.AllDirectories)
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));

        var dead = new List<string>();
        foreach (var key in configuration.AsEnumerable().Where(setting => setting.Value is not null).Select(setting => setting.Key))
        {
            if (FrameworkKeys.Any(prefix => key == prefix || key.StartsWith(prefix, StringComparison.Ordinal)))
            {
                continue;
            }

            var section = key.Split(':')[0];
            if (sections.TryGetValue(section, out var options))
            {
                // The options class must have a property for every key under its section (the binder names
                // the first that has none), and a value must not merely repeat the class's default: the
                // default is written in one place, the options class.
                try
                {
                    var bound = configuration.GetSection(section).Get(options, binder => binder.ErrorOnUnknownConfiguration = true)!;
                    var property = options.GetProperty(key.Split(':')[1], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
                    var defaults = Activator.CreateInstance(options);
                    if (property is not null && key.Split(':').Length == 2
                        && System.Text.Json.JsonSerializer.Serialize(property.GetValue(bound)) == System.Text.Json.JsonSerializer.Serialize(property.GetValue(defaults)))
                    {
                        dead.Add($"{key} repeats the default of {options.Name}.{property.Name}");
                    }
                }
                catch (InvalidOperationException ex)
                {
                    dead.Add($"section {section}: {ex.Message}");
                }
            }
            else if (!source.Contains($"\"{key}\"", StringComparison.Ordinal))
            {
                // Read by name (GetRequiredValue("Gateway:BaseAddress")), or by nothing.
                dead.Add($"{key} (no options class has section '{section}', and no code of {project} names the key)");
            }
        }

        Assert.Empty(dead.Distinct());
    }
}
