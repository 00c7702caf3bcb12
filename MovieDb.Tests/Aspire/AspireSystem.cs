using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// MovieDb started by its AppHost with Aspire.Hosting.Testing (run mode: DCP starts containers for
/// MySQL, MongoDB and RabbitMQ). As a class fixture it starts nothing by itself: each test calls
/// <see cref="StartAsync"/>, which skips that test, with the reason, where run mode is impossible —
/// a skip decided inside a fixture's InitializeAsync would be reported as a failure.
/// </summary>
public sealed class AspireSystem : MovieDbSystem
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Task? _starting;
    private DistributedApplication? _app;

    public override HttpClient CreateClient() => (_app ?? throw new InvalidOperationException("not started")).CreateHttpClient("gateway");

    public override ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Skips the calling test when run mode cannot work here; otherwise starts the AppHost once.</summary>
    public async Task StartAsync()
    {
        Assert.SkipWhen(RunModeUnavailableReason() is not null, RunModeUnavailableReason() ?? string.Empty);
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            _starting ??= StartAppAsync();
        }
        finally
        {
            _gate.Release();
        }

        await _starting;
    }

    /// <summary>
    /// Why the AppHost cannot run here, or null. Run mode needs a container runtime and DCP, the
    /// orchestrator, which the AppHost build records in its assembly metadata (from the Aspire CLI
    /// bundle or the DcpDir property).
    /// </summary>
    public static string? RunModeUnavailableReason()
    {
        if (!TestServers.DockerLooksReachable())
        {
            return "No container runtime is reachable (DOCKER_HOST unset, no docker.sock): the AppHost runs MySQL, MongoDB and RabbitMQ as containers.";
        }

        var dcp = typeof(Projects.MovieDb_AppHost).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), inherit: false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "dcpclipath")?.Value;
        return string.IsNullOrEmpty(dcp) || !File.Exists(dcp)
            ? $"DCP, the Aspire orchestrator, is not installed (the AppHost was built with dcpclipath '{dcp}'): install the Aspire CLI (https://get.aspire.dev) and build again."
            : null;
    }

    private async Task StartAppAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>(ct).WaitAsync(StartTimeout, ct);
        builder.Configuration["Parameters:admin-password"] = AdminPassword;
        builder.Configuration["Parameters:jwt-signing-key"] = InProcessSystem.SigningKey;

        // The scenarios sign in right after registering. (The mailed activation is proven on the
        // in-process and process launchers and run-local, with a real SMTP server.)
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "userservice"))
            .WithEnvironment("Accounts__RequireActivation", "false");

        // Resource logs go to the test output, so a failing start explains itself.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Warning)
            .AddProvider(new TestOutputLoggerProvider()));

        _app = await builder.BuildAsync(ct).WaitAsync(StartTimeout, ct);
        await _app.StartAsync(ct).WaitAsync(StartTimeout, ct);
        foreach (var resource in new[] { "movieservice", "userservice", "gateway" })
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource, ct).WaitAsync(StartTimeout, ct);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        _gate.Dispose();
    }

    private sealed class TestOutputLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new TestOutputLogger(categoryName);

        public void Dispose()
        {
        }

        private sealed class TestOutputLogger(string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                TestContext.Current.TestOutputHelper?.WriteLine($"[{logLevel}] {category}: {formatter(state, exception)}{(exception is null ? string.Empty : "\n" + exception)}");
        }
    }
}
