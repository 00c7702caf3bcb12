using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// MovieDb started by its AppHost with Aspire.Hosting.Testing (containers for MySQL, MongoDB and
/// RabbitMQ). Needs a container runtime: without one the tests that use it skip and say so.
/// </summary>
public sealed class AspireSystem : MovieDbSystem
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);
    private DistributedApplication? _app;

    public override HttpClient CreateClient() => (_app ?? throw new InvalidOperationException("not started")).CreateHttpClient("gateway");

    public override async ValueTask InitializeAsync()
    {
        if (!TestServers.DockerLooksReachable())
        {
            Assert.Skip("No container runtime is reachable (DOCKER_HOST unset, no docker.sock): the AppHost runs MySQL, MongoDB and RabbitMQ as containers.");
        }

        var ct = TestContext.Current.CancellationToken;
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>(ct).WaitAsync(StartTimeout, ct);
        builder.Configuration["Parameters:admin-password"] = AdminPassword;
        builder.Configuration["Parameters:jwt-signing-key"] = InProcessSystem.SigningKey;

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
