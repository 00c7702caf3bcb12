using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Unit;

/// <summary>
/// The scripts people and CI run pass shellcheck (settings in <c>.shellcheckrc</c>), and the helpers
/// that put values into SQL or URIs refuse or encode what they must. Without shellcheck or bash this
/// skips, saying why (scripts/test.sh installs Debian's shellcheck package).
/// </summary>
public sealed class ShellScriptTests
{
    private static readonly string[] Scripts =
        ["scripts/run-local.sh", "scripts/test.sh", "scripts/serverctl.sh", "scripts/lib/servers.sh", "bench/run.sh", "bench/stages.sh", "bench/revisions.sh", ".ci/run"];

    [Fact]
    public async Task The_shell_scripts_pass_shellcheck()
    {
        Assert.SkipUnless(File.Exists("/usr/bin/shellcheck") || CommandLineTools.OnPath("shellcheck"), "shellcheck is not installed (Debian package shellcheck)");

        var (exitCode, output) = await RunAsync("shellcheck", [.. Scripts]);

        Assert.True(exitCode == 0, $"shellcheck found problems:\n{output}");
    }

    [Theory]
    [InlineData("moviedb", true)]
    [InlineData("moviedb_test_2", true)]
    [InlineData("x'; DROP DATABASE moviedb; --", false)]
    [InlineData("movie`db", false)]
    [InlineData("movie db", false)]
    [InlineData("", false)]
    [InlineData("a23456789012345678901234567890123", false)]
    public async Task Only_plain_names_reach_sql_or_the_broker_as_account_and_database_names(string name, bool allowed)
    {
        var (exitCode, _) = await BashAsync("moviedb_valid_name \"$1\"", name);

        Assert.Equal(allowed, exitCode == 0);
    }

    [Theory]
    [InlineData("moviedb-bench", "moviedb-bench")]
    [InlineData("a/b c", "a%2Fb%20c")]
    [InlineData("p@ss:wörd", "p%40ss%3Aw%C3%B6rd")]
    [InlineData("日本", "%E6%97%A5%E6%9C%AC")]
    public async Task Uri_escaping_encodes_the_utf8_bytes_of_everything_but_unreserved_characters(string value, string expected)
    {
        var (exitCode, output) = await BashAsync("moviedb_uri_escape \"$1\"", value);

        Assert.Equal(0, exitCode);
        Assert.Equal(expected, output.Trim());
        Assert.Equal(value, Uri.UnescapeDataString(output.Trim()));
    }

    private static Task<(int ExitCode, string Output)> BashAsync(string command, string argument)
    {
        Assert.SkipUnless(CommandLineTools.OnPath("bash"), "bash is not installed");
        return RunAsync("bash", ["-c", $"source scripts/lib/servers.sh && {command}", "test", argument]);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string[] arguments)
    {
        var result = await CommandLineTools.RunAsync(fileName, arguments, RepositoryPaths.Root, new Dictionary<string, string> { ["LC_ALL"] = "C.UTF-8" });
        return (result.ExitCode, result.Output + result.Errors);
    }
}
