using System.Diagnostics;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// Stops and starts the local MariaDB and RabbitMQ through <c>scripts/serverctl.sh</c> (named by
/// <c>MOVIEDB_TEST_SERVERCTL</c>, which scripts/test.sh sets). Tests that use it run alone (the
/// <see cref="ServerRestarts"/>), since every other test shares these servers.
/// </summary>
public static class ServerControl
{
    public const string EnvironmentVariable = "MOVIEDB_TEST_SERVERCTL";

    public static Task StopAsync(string server) => RunAsync("stop", server);

    public static Task StartAsync(string server) => RunAsync("start", server);

    private static async Task RunAsync(string action, string server)
    {
        var script = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrEmpty(script))
        {
            throw TestServers.Unavailable("Server control", $"{EnvironmentVariable} is not set: these tests stop and start the local servers and run through scripts/test.sh", requiredInCi: true);
        }

        using var process = Process.Start(new ProcessStartInfo("bash", [script, action, server])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"serverctl {action} {server} failed: {await process.StandardError.ReadToEndAsync(timeout.Token)}");
    }
}

/// <summary>
/// Tests that stop the shared servers. xUnit runs a collection that disables parallelisation on
/// its own, after the parallel collections, so no other test sees the outage.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerRestarts
{
    public const string Name = "Server restarts";
}
