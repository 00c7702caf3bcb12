using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// One MovieDb service as a real child process (<c>dotnet Service.dll</c>, built by the solution
/// build), configured only through environment variables — exactly as <c>scripts/run-local.sh</c>
/// starts it. It can be stopped gracefully (SIGTERM) or killed (SIGKILL).
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    // Children that outlive a failed test are killed when the test run ends, never left behind.
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    static ServiceProcess() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var process in Running.Values)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    };

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(string name, Process process, Uri baseAddress)
    {
        Name = name;
        _process = process;
        BaseAddress = baseAddress;
    }

    public string Name { get; }

    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote so far.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts <paramref name="project"/> (e.g. <c>UserService</c>) on a free loopback port.</summary>
    public static ServiceProcess Start(string project, IDictionary<string, string?> environment, int? port = null)
    {
        var dll = RepositoryPaths.ServiceAssembly(project);
        var listenPort = port ?? FreePort();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{listenPort}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var service = new ServiceProcess(project, process, new Uri($"http://127.0.0.1:{listenPort}/"));
        process.OutputDataReceived += (_, e) => service.Record(e.Data);
        process.ErrorDataReceived += (_, e) => service.Record(e.Data);
        process.Start();
        Running[process.Id] = process;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 2000)
        {
            _output.TryDequeue(out _);
        }
    }

    /// <summary>Waits until <c>/health</c> answers 200; fails with the process output if it exits or times out.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"{Name} exited with code {_process.ExitCode} before it was healthy. Output:\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync("health", TestContext.Current.CancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
            }

            if (watch.Elapsed > limit)
            {
                Assert.Fail($"{Name} was not healthy after {limit}. Output:\n{Tail()}");
            }

            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>The last lines of output, for failure messages.</summary>
    public string Tail(int lines = 60) => string.Join('\n', _output.TakeLast(lines));

    /// <summary>SIGKILL: the process dies at once, with no chance to acknowledge or clean up.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>
    /// SIGSTOP: the process stops where it is, holding its connections and the messages it has taken,
    /// as a machine that stalls would — slow by a known amount whatever the machine's speed.
    /// </summary>
    public Task PauseAsync() => SignalAsync("-STOP");

    /// <summary>SIGCONT: a paused process goes on.</summary>
    public Task ResumeAsync() => SignalAsync("-CONT");

    private async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", [signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(kill.ExitCode == 0, $"kill {signal} {Name} failed");
    }

    /// <summary>SIGTERM, then waits for a graceful exit (SIGKILL after <paramref name="timeout"/>).</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            // A paused process would not act on SIGTERM until it is continued.
            await SignalAsync("-CONT");
            await SignalAsync("-TERM");
        }
        else
        {
            _process.Kill(entireProcessTree: true);
        }

        using var wait = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
    }

    /// <summary>A TCP port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Where the repository and the built services are, seen from the test assembly.</summary>
public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration the tests were built in (Debug or Release): the services are built the same way.</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(AppContext.BaseDirectory).Parent?.Parent?.Name is { } name && name is "Debug" or "Release" ? name : "Debug";

    public static string ServiceAssembly(string project)
    {
        var path = Path.Combine(Root, project, "bin", Configuration, "net10.0", project + ".dll");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path} does not exist: build the solution first (scripts/test.sh does).", path);
        }

        return path;
    }

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MovieDb.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"MovieDb.sln not found above {AppContext.BaseDirectory}.");
    }
}
