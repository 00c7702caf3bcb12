using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// The manifest azd deploys from, made the way azd makes it: <c>dotnet run --project
/// MovieDb.AppHost -- --publisher manifest --output-path DIR</c>, once per test run.
/// </summary>
public static partial class PublishedManifest
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<JsonElement>>> Manifests = new(StringComparer.Ordinal);

    /// <summary>The <c>resources</c> object of the manifest published with <c>MovieDb:Servers</c> = <paramref name="servers"/>.</summary>
    public static Task<JsonElement> GetResourcesAsync(string servers = "containers") =>
        Manifests.GetOrAdd(servers, mode => new Lazy<Task<JsonElement>>(() => PublishAsync(mode))).Value;

    private static async Task<JsonElement> PublishAsync(string servers)
    {
        var output = Directory.CreateTempSubdirectory("moviedb-manifest-");
        try
        {
            var dotnet = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var start = new ProcessStartInfo(dotnet)
            {
                ArgumentList =
                {
                    "run", "--no-build", "--no-launch-profile", "-c", RepositoryPaths.Configuration,
                    "--project", Path.Combine(RepositoryPaths.Root, "MovieDb.AppHost", "MovieDb.AppHost.csproj"),
                    "--", "--publisher", "manifest", "--output-path", output.FullName, "--MovieDb:Servers", servers,
                },
                WorkingDirectory = Path.Combine(RepositoryPaths.Root, "MovieDb.AppHost"),
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(timeout.Token);
            var path = Path.Combine(output.FullName, "aspire-manifest.json");
            Assert.True(process.ExitCode == 0 && File.Exists(path), $"publishing the manifest failed (exit {process.ExitCode}):\n{await stdout}\n{await stderr}");
            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
            return document.RootElement.GetProperty("resources").Clone();
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    /// <summary>The environment a resource gets, expressions unresolved.</summary>
    public static Dictionary<string, string> Environment(this JsonElement resources, string name) =>
        resources.GetProperty(name).TryGetProperty("env", out var env)
            ? env.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal)
            : [];

    /// <summary>
    /// Replaces every <c>{resource.path}</c> expression with a value a local process could use:
    /// hosts are 127.0.0.1, ports unused ones, parameters a long generated-looking secret,
    /// connection strings resolved recursively. What the values are matters less than their shape.
    /// </summary>
    public static string Resolve(this JsonElement resources, string value) =>
        Expression().Replace(value, match =>
        {
            var parts = match.Groups[1].Value.Split('.');
            var resource = resources.GetProperty(parts[0]);
            return parts[1..] switch
            {
                ["connectionString"] => resources.Resolve(resource.GetProperty("connectionString").GetString()!),
                ["value"] when resource.GetProperty("type").GetString() == "parameter.v0" => "Generated-Secret-Value-0123456789abcdefghijklmnopqrstuvwxyz",
                ["value"] => resources.Resolve(resource.GetProperty("value").GetString()!),
                ["bindings", _, "host"] => "127.0.0.1",
                ["bindings", _, "port"] or ["bindings", _, "targetPort"] => "1",
                ["bindings", var binding, "url"] => $"{resource.GetProperty("bindings").GetProperty(binding).GetProperty("scheme").GetString()}://127.0.0.1:1",
                _ => throw new InvalidOperationException($"No local value for the manifest expression {match.Value}."),
            };
        });

    [GeneratedRegex(@"\{([a-z0-9-]+(?:\.[A-Za-z0-9_-]+)+)\}")]
    private static partial Regex Expression();
}
