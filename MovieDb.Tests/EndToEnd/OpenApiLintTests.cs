using System.Text.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// The public OpenAPI document passes Redocly CLI's recommended rules with no error and no warning,
/// so that a client can be generated from it. Redocly CLI is the version pinned in
/// <c>tools/openapi/package-lock.json</c>, installed there with <c>npm ci</c> on first use. Without
/// Node.js 20.19 or later and npm, or without the npm registry, it cannot run: it skips, saying why
/// (also under <c>CI=true</c>: Debian's own Node.js is older, so a build machine may not have one).
/// </summary>
public sealed class OpenApiLintTests(OpenApiDocumentTests.System system) : IClassFixture<OpenApiDocumentTests.System>
{
    private static readonly string ToolDirectory = Path.Combine(RepositoryPaths.Root, "tools", "openapi");

    [Fact]
    public async Task The_public_document_passes_redoclys_recommended_rules_without_errors_or_warnings()
    {
        await EnsureRedoclyAsync();
        var document = Path.Combine(Path.GetTempPath(), "moviedb-tests", $"openapi-{Guid.NewGuid():N}.json");
        Directory.CreateDirectory(Path.GetDirectoryName(document)!);
        using (var client = system.CreateClient())
        {
            await File.WriteAllTextAsync(document, await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        }

        try
        {
            var (exitCode, output, errors) = await RunAsync(
                Path.Combine(ToolDirectory, "node_modules", ".bin", "redocly"),
                ["lint", "--config", Path.Combine(ToolDirectory, "redocly.yaml"), "--format", "json", document]);

            using var report = JsonDocument.Parse(output);
            var totals = report.RootElement.GetProperty("totals");
            var problems = string.Join('\n', report.RootElement.GetProperty("problems").EnumerateArray()
                .Select(p => $"{p.GetProperty("severity").GetString()} {p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()} at {p.GetProperty("location")[0].GetProperty("pointer").GetString()}"));
            Assert.True(
                totals.GetProperty("errors").GetInt32() == 0 && totals.GetProperty("warnings").GetInt32() == 0 && exitCode == 0,
                $"redocly lint (exit {exitCode}): {totals}\n{problems}\n{errors}");
        }
        finally
        {
            File.Delete(document);
        }
    }

    /// <summary>Installs the pinned Redocly CLI into tools/openapi/node_modules (git-ignored) unless it is there.</summary>
    private static async Task EnsureRedoclyAsync()
    {
        if (File.Exists(Path.Combine(ToolDirectory, "node_modules", ".bin", "redocly")))
        {
            return;
        }

        foreach (var tool in new[] { "node", "npm" })
        {
            if (!CommandLineTools.OnPath(tool))
            {
                Unavailable($"{tool} is not installed (Node.js 20.19+ and npm run Redocly CLI)");
            }
        }

        var (_, version, _) = await RunAsync("node", ["--version"]);
        if (!Version.TryParse(version.Trim().TrimStart('v'), out var node) || node < new Version(20, 19))
        {
            Unavailable($"Node.js {version.Trim()} is too old: Redocly CLI needs 20.19 or later");
        }

        var (exitCode, output, errors) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund"]);
        if (exitCode != 0)
        {
            Unavailable($"'npm ci' in tools/openapi failed (exit {exitCode}): {output}\n{errors}");
        }
    }

    private static void Unavailable(string reason) => Assert.Skip($"Redocly CLI cannot run here: {reason}");

    // No telemetry or update checks: the lint is a local check.
    private static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string fileName, string[] arguments)
    {
        var result = await CommandLineTools.RunAsync(fileName, arguments, ToolDirectory, new Dictionary<string, string>
        {
            ["REDOCLY_TELEMETRY"] = "off",
            ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true",
        });
        return (result.ExitCode, result.Output, result.Errors);
    }
}
