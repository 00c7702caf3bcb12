using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// MovieDb started by its real AppHost with Aspire.Hosting.Testing in run mode: DCP starts the five
/// projects, the dashboard runs and receives their telemetry. The servers are the test run's own, in
/// the AppHost's existing-servers mode (<c>MovieDb:Servers=existing</c>): a MariaDB database and a
/// RabbitMQ virtual host of this system's, a LiteDB user store, an SMTP server (aiosmtpd) whose
/// mails activate new accounts. As a class fixture it starts nothing by itself: each test calls
/// <see cref="StartAsync"/> — a skip or failure decided inside a fixture's InitializeAsync would be
/// reported against every test of the class with no reason.
/// </summary>
public sealed class AspireSystem(TestServers servers) : MovieDbSystem
{
    public const string DashboardBrowserToken = "moviedb-tests-dashboard-token";

    public static readonly string[] Projects = ["movieservice", "userservice", "gateway", "webapp", "notificationservice"];

    public static readonly string[] Servers = ["moviedb", "userdb", "messaging", "mail", "cache"];

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(4);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", "apphost-" + Guid.NewGuid().ToString("N")[..8]);
    private Task? _starting;
    private DistributedApplication? _app;
    private TestMailServer? _smtp;
    private TestVirtualHost? _virtualHost;

    public DistributedApplication App => _app ?? throw new InvalidOperationException("not started");

    public TestDatabase Database { get; private set; } = null!;

    public override Maildir? Mailbox => _smtp?.Mailbox;

    public override HttpClient CreateClient() => App.CreateHttpClient("gateway");

    public override ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Starts the AppHost once (the first caller waits for it); fails the calling test if it does not come up.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            _starting ??= StartAppAsync();
        }
        finally
        {
            _gate.Release();
        }

        await _starting.WaitAsync(StartTimeout + StartTimeout, TestContext.Current.CancellationToken);
    }

    private async Task StartAppAsync()
    {
        // Not the test's token: the start is shared by every test of the class.
        using var timeout = new CancellationTokenSource(StartTimeout);
        var ct = timeout.Token;
        Database = await servers.MariaDb.CreateDatabaseAsync();
        _virtualHost = await servers.RabbitMq.CreateVirtualHostAsync();
        _smtp = await servers.Smtp.StartAsync();
        Directory.CreateDirectory(_directory);

        // The switch and the connection strings are read while the AppHost builds its model, so they are
        // arguments, as `dotnet run --project MovieDb.AppHost -- --MovieDb:Servers existing …` would pass them.
        string[] args =
        [
            "MovieDb:Servers=existing",
            $"ConnectionStrings:moviedb={Database.ConnectionString}",
            $"ConnectionStrings:userdb=Filename={Path.Combine(_directory, "users.db")};Connection=shared",
            $"ConnectionStrings:messaging={_virtualHost.ConnectionString}",
            $"ConnectionStrings:mail={_smtp.ConnectionString}",
            $"ConnectionStrings:cache={servers.Redis.Address}",
            $"Parameters:admin-password={AdminPassword}",
            $"Parameters:jwt-signing-key={InProcessSystem.SigningKey}",
            $"Parameters:gateway-identity-key={InProcessSystem.IdentityKey}",
            $"Parameters:messaging-signing-key={InProcessSystem.MessagingSigningKey}",
            $"Parameters:event-signing-key={InProcessSystem.EventSigningKey}",
        ];
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>(
            new DistributedApplicationTestingBuilderOptions { EnableDashboard = true }, args, ct);
        builder.Configuration["AppHost:BrowserToken"] = DashboardBrowserToken;

        // The scenarios sign in more often than the default 10 per minute per address allows. The
        // gateway's and the web app's keys in the test run's Redis are this system's own.
        var prefix = RedisServer.NewKeyPrefix();
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "gateway"))
            .WithEnvironment("RateLimiting__SignIn__PermitLimit", "1000")
            .WithEnvironment("RateLimiting__Registration__PermitLimit", "1000")
            .WithEnvironment("Cache__KeyPrefix", prefix)
            .WithEnvironment("Messaging__RequestTimeout", "00:00:30");
        builder.CreateResourceBuilder(builder.Resources.OfType<ProjectResource>().Single(r => r.Name == "webapp"))
            .WithEnvironment("Cache__KeyPrefix", prefix);

        // Resource logs go to the test output, so a failing start explains itself.
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Information)
            .AddFilter("Aspire.Hosting.Dcp", LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
            .AddProvider(new TestOutputLoggerProvider()));

        _app = await builder.BuildAsync(ct);
        await _app.StartAsync(ct);
        foreach (var resource in Projects)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(resource, ct);
        }
    }

    /// <summary>The dashboard's login URL (<c>…/login?t=token</c>).</summary>
    public Task<Uri> GetDashboardLoginUrlAsync() => App.GetDashboardUrlAsync(TestContext.Current.CancellationToken).WaitAsync(Wait.DefaultTimeout, TestContext.Current.CancellationToken);

    /// <summary>The key of the dashboard's telemetry API (<c>x-api-key</c>), as the AppHost gave it to the dashboard.</summary>
    public string DashboardApiKey => App.Services.GetRequiredService<IConfiguration>()["AppHost:DashboardApiKey"]
        ?? throw new InvalidOperationException("the AppHost has no dashboard API key");

    public override async ValueTask DisposeAsync()
    {
        if (_starting is not null)
        {
            try
            {
                await _starting.WaitAsync(StartTimeout);
            }
            catch (Exception)
            {
                // Reported by the test that started it.
            }
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }

        if (_smtp is not null)
        {
            await _smtp.DisposeAsync();
        }

        if (_virtualHost is not null)
        {
            await _virtualHost.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        _gate.Dispose();
    }

    /// <summary>The resources' state as the AppHost reports it: name → state text (e.g. <c>Running</c>).</summary>
    public Dictionary<string, string?> ResourceStates() =>
        Projects.Concat(Servers).ToDictionary(
            name => name,
            name => App.ResourceNotifications.TryGetCurrentState(name, out var state) ? state.Snapshot.State?.Text : null,
            StringComparer.Ordinal);

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
