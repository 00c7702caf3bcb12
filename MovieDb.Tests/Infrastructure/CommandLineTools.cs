using System.Diagnostics;

namespace MovieDb.Tests.Infrastructure;

/// <summary>What a command-line tool printed and how it ended.</summary>
public sealed record ToolResult(int ExitCode, string Output, string Errors);

/// <summary>Command-line tools the tests use (shellcheck, bash, node, npm): found on PATH, run to the end.</summary>
public static class CommandLineTools
{
    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, tool)));

    /// <summary>Runs <paramref name="fileName"/> and waits for it, killing it (and its children) after <paramref name="timeout"/>.</summary>
    public static async Task<ToolResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        string workingDirectory,
        IReadOnlyDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var cancellationToken = TestContext.Current.CancellationToken;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return new ToolResult(process.ExitCode, await output, await errors);
    }
}
