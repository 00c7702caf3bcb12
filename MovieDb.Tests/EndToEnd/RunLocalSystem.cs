using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using MovieDb.Tests.Infrastructure;
using MySqlConnector;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// MovieDb started by <c>scripts/run-local.sh</c> itself — the README's no-container command, which
/// runs the AppHost in its existing-servers mode — on its own ports (services, dashboard, SMTP),
/// database, virtual host, account and state folder, so it can run beside anything. Stopped with
/// SIGTERM, as Ctrl-C would, which must stop everything it started.
/// </summary>
public sealed partial class RunLocalSystem(TestServers servers) : MovieDbSystem
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _script;

    public int WebAppPort { get; } = ServiceProcess.FreePort();

    public int GatewayPort { get; } = ServiceProcess.FreePort();

    public int MovieServicePort { get; } = ServiceProcess.FreePort();

    public int UserServicePort { get; } = ServiceProcess.FreePort();

    public int NotificationServicePort { get; } = ServiceProcess.FreePort();

    public int SmtpPort { get; } = ServiceProcess.FreePort();

    public int DashboardPort { get; } = ServiceProcess.FreePort();

    public int OtlpPort { get; } = ServiceProcess.FreePort();

    public int ResourceServicePort { get; } = ServiceProcess.FreePort();

    /// <summary>Every port the system listens on while it runs.</summary>
    public IEnumerable<int> Ports => [WebAppPort, GatewayPort, MovieServicePort, UserServicePort, NotificationServicePort, SmtpPort, DashboardPort, OtlpPort, ResourceServicePort];

    public string StateDirectory { get; } = Path.Combine(Path.GetTempPath(), "moviedb-tests", "run-local-" + Guid.NewGuid().ToString("N")[..8]);

    public string Output => string.Join('\n', _output);

    /// <summary>Where run-local's SMTP server puts the mails: the scenarios activate through them.</summary>
    public override Maildir? Mailbox => new(Path.Combine(StateDirectory, "mail"));

    /// <summary>
    /// Why scripts/run-local.sh cannot run here, or null. The test decides (not this system's
    /// InitializeAsync): a skip thrown from a fixture's start is reported as a failure.
    /// </summary>
    public static string? UnavailableReason() =>
        Environment.UserName != "root" && !TestServers.IsCi
            ? "scripts/run-local.sh creates server accounts and needs root (or passwordless sudo): run the tests through scripts/test.sh as root."
            : null;

    public override HttpClient CreateClient() => new() { BaseAddress = new Uri($"http://127.0.0.1:{GatewayPort}/"), Timeout = TimeSpan.FromSeconds(30) };

    public override async ValueTask InitializeAsync()
    {
        // The script creates accounts with root's rights (sudo elsewhere); the test servers it joins
        // must be the local ones it manages.
        await servers.MariaDb.GetAdminConnectionStringAsync();
        await servers.RabbitMq.GetUriAsync();

        var start = new ProcessStartInfo("bash", [Path.Combine(RepositoryPaths.Root, "scripts", "run-local.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryPaths.Root,
        };
        start.Environment["MOVIEDB_STATE_DIR"] = StateDirectory;
        start.Environment["MOVIEDB_WEBAPP_PORT"] = WebAppPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_GATEWAY_PORT"] = GatewayPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_MOVIESERVICE_PORT"] = MovieServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_USERSERVICE_PORT"] = UserServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_NOTIFICATIONSERVICE_PORT"] = NotificationServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_SMTP_PORT"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_DASHBOARD_PORT"] = DashboardPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_OTLP_PORT"] = OtlpPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_RESOURCE_SERVICE_PORT"] = ResourceServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["MOVIEDB_DATABASE"] = "moviedb_rl_" + _suffix;
        start.Environment["MOVIEDB_VHOST"] = "moviedb-rl-" + _suffix;
        start.Environment["MOVIEDB_ACCOUNT"] = "moviedb_rl_" + _suffix;
        start.Environment["MOVIEDB_CONFIGURATION"] = RepositoryPaths.Configuration;
        start.Environment["MOVIEDB_NO_BUILD"] = "1";
        start.Environment["MOVIEDB_ADMIN_PASSWORD"] = AdminPassword;

        // The services inherit the script's environment (through the AppHost and DCP): the scenarios
        // sign in more often than the default 10 per minute per address allows.
        start.Environment["RateLimiting__SignIn__PermitLimit"] = "1000";
        start.Environment["Cache__KeyPrefix"] = RedisServer.NewKeyPrefix();

        // The scenarios expect answers, not 202s: a first request on a busy 2-core machine (cold
        // services, tests running beside) may take longer than the default 5 s.
        start.Environment["Messaging__RequestTimeout"] = "00:00:30";
        start.Environment["RateLimiting__Registration__PermitLimit"] = "1000";

        _script = new Process { StartInfo = start };
        _script.OutputDataReceived += (_, e) => Record(e.Data);
        _script.ErrorDataReceived += (_, e) => Record(e.Data);
        _script.Start();
        _script.BeginOutputReadLine();
        _script.BeginErrorReadLine();

        var watch = Stopwatch.StartNew();
        while (!Output.Contains("MovieDb is running.", StringComparison.Ordinal))
        {
            if (_script.HasExited || watch.Elapsed > TimeSpan.FromSeconds(420))
            {
                Assert.Fail($"scripts/run-local.sh did not bring MovieDb up (exit: {(_script.HasExited ? _script.ExitCode : "still running")}). Output:\n{Output}");
            }

            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    /// <summary>The dashboard login URL run-local.sh prints.</summary>
    [GeneratedRegex(@"http://localhost:\d+/login\?t=[0-9a-f]+")]
    public static partial Regex DashboardLoginPattern();

    /// <summary>True while something listens on the port.</summary>
    public static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>SIGTERM to the script (what Ctrl-C does), then waits for it to finish.</summary>
    public async Task StopAsync()
    {
        if (_script is null || _script.HasExited)
        {
            return;
        }

        using (var signal = Process.Start("kill", ["-TERM", _script.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await signal.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(150));
        try
        {
            await _script.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            _script.Kill(entireProcessTree: true);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await StopAsync();
        _script?.Dispose();
        try
        {
            var admin = await servers.MariaDb.GetAdminConnectionStringAsync();
            await using var connection = new MySqlConnection(admin);
            await connection.OpenAsync();
            await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `moviedb_rl_{_suffix}`; DROP USER IF EXISTS 'moviedb_rl_{_suffix}'@'localhost'; DROP USER IF EXISTS 'moviedb_rl_{_suffix}'@'127.0.0.1';", connection);
            await command.ExecuteNonQueryAsync();
            using var rabbitmqctl = Process.Start("rabbitmqctl", ["-q", "delete_vhost", $"moviedb-rl-{_suffix}"]);
            await rabbitmqctl.WaitForExitAsync();
            using var deleteUser = Process.Start("rabbitmqctl", ["-q", "delete_user", $"moviedb_rl_{_suffix}"]);
            await deleteUser.WaitForExitAsync();
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is MySqlException or IOException or System.ComponentModel.Win32Exception)
        {
            // Leftovers of a test system are harmless; they carry unique names.
        }
    }
}
