using Gateway;
using Microsoft.Extensions.DependencyInjection;
using MovieDb.Tests.Infrastructure;
using NotificationService;
using UserService;

namespace MovieDb.Tests.EndToEnd.Activation;

/// <summary>
/// The account activation flow in the test process: the user service (new accounts pending) and the
/// gateway, their clock under the test's control, the notification service and a real SMTP server
/// (aiosmtpd), on real RabbitMQ. No movie service: activation never reaches it. Started by the first
/// test that needs it (<see cref="StartAsync"/>), so that a missing SMTP server skips (or, in CI,
/// fails) that test rather than the fixture.
/// </summary>
public sealed class ActivationSystem(TestServers servers) : MovieDbSystem
{
    /// <summary>The link template the notification service is given: not the default, to prove it is used.</summary>
    public const string ActivationUrl = "https://movies.example.test/activate?token={token}";

    /// <summary>The reset link template: not the default either.</summary>
    public const string PasswordResetUrl = "https://movies.example.test/reset-password?token={token}";

    public const string NotificationQueue = "notificationservice.events";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", "activation-" + Guid.NewGuid().ToString("N")[..8]);
    private bool _started;

    /// <summary>
    /// The clock of the user service and the gateway: real time plus an offset a test may set (and must
    /// reset). Both, as two machines whose clocks agree: the user service refuses a request whose
    /// signature is older than it may be by its own clock.
    /// </summary>
    public ShiftedClock Clock { get; } = new();

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    /// <summary>What the user service's password-reset feature logs, Debug included (e.g. "No password-reset mail sent: …").</summary>
    public LogRecorder PasswordResetLog { get; } = new(typeof(UserService.Features.PasswordReset.PasswordResetRequests).FullName!);

    /// <summary>What the user service's activation feature logs, Debug included (e.g. "No activation mail sent: …").</summary>
    public LogRecorder ActivationLog { get; } = new(typeof(UserService.Features.Activation.ActivationRequests).FullName!);

    public TestMailServer Smtp { get; private set; } = null!;

    public ServiceFactory<UserServiceApp> UserService { get; private set; } = null!;

    public ServiceFactory<GatewayApp> Gateway { get; private set; } = null!;

    public ServiceFactory<NotificationServiceApp> NotificationService { get; private set; } = null!;

    public override Maildir? Mailbox => Smtp?.Mailbox;

    public override HttpClient CreateClient() => Gateway.CreateClient();

    public override ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Starts everything once; every test calls it first.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_started)
            {
                return;
            }

            Smtp = await servers.Smtp.StartAsync();
            VirtualHost = await servers.RabbitMq.CreateVirtualHostAsync();

            UserService = new ServiceFactory<UserServiceApp>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
                ["ConnectionStrings:userdb"] = $"Filename={Path.Combine(_directory, "users.db")};Connection=shared",
                ["Admin:Password"] = AdminPassword,
                ["Messaging:SigningKey"] = InProcessSystem.MessagingSigningKey,
                ["Messaging:EventSigningKey"] = InProcessSystem.EventSigningKey,
                ["PasswordHasher:IterationCount"] = "10000",
                ["Accounts:RequireActivation"] = "true",
                // Purged every second (on the shifted clock), so a test sees an abandoned account go.
                ["Accounts:PurgeInterval"] = "00:00:01",
            }, configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(Clock);
                PasswordResetLog.AddTo(services);
                ActivationLog.AddTo(services);
            });
            using (var client = UserService.CreateClient())
            {
                await Wait.UntilHealthAsync(client, "the user service is ready");
            }

            NotificationService = new ServiceFactory<NotificationServiceApp>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
                ["ConnectionStrings:mail"] = Smtp.ConnectionString,
                ["Notifications:ActivationUrl"] = ActivationUrl,
                ["Notifications:PasswordResetUrl"] = PasswordResetUrl,
                ["Notifications:SentMailStore"] = $"Filename={Path.Combine(_directory, "sent-mail.db")};Connection=shared",
                ["Notifications:RetryDelay"] = "00:00:00.200",
                ["Notifications:MaxRetryDelay"] = "00:00:01",
                ["Notifications:RetryWindow"] = "00:01:00",
                ["Messaging:RetryDelay"] = "00:00:00.050",
                ["Messaging:EventSigningKey"] = InProcessSystem.EventSigningKey,
            });
            using (var client = NotificationService.CreateClient())
            {
                await Wait.UntilHealthAsync(client, "the notification service is ready");
            }

            Gateway = new ServiceFactory<GatewayApp>(new Dictionary<string, string?>
            {
                ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
                // Never called: activation does not involve the movie service.
                ["services:movieservice:http:0"] = "http://127.0.0.1:9",
                ["Jwt:SigningKey"] = InProcessSystem.SigningKey,
                ["GatewayIdentity:SigningKey"] = InProcessSystem.IdentityKey,
                ["Messaging:SigningKey"] = InProcessSystem.MessagingSigningKey,
                ["RateLimiting:SignIn:PermitLimit"] = "100000",
                ["RateLimiting:Registration:PermitLimit"] = "100000",
                ["RateLimiting:PasswordResets:PermitLimit"] = "100000",
                ["RateLimiting:Anonymous:TokenLimit"] = "100000",
                ["RateLimiting:Anonymous:TokensPerSecond"] = "100000",
            }, configureServices: services => services.AddSingleton<TimeProvider>(Clock));
            using (var client = Gateway.CreateClient())
            {
                await Wait.UntilHealthAsync(client, "the gateway is ready");
            }

            _started = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The notification service's readiness word: Healthy, or Degraded after a failed send.</summary>
    public async Task<string> NotificationHealthAsync()
    {
        using var client = NotificationService.CreateClient();
        using var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);
        return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var service in new IAsyncDisposable?[] { Gateway, NotificationService, UserService, VirtualHost, Smtp })
        {
            if (service is not null)
            {
                await service.DisposeAsync();
            }
        }

        _gate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Real time shifted by <see cref="Offset"/>: lets a test step past an expiry and back.</summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
        set => Interlocked.Exchange(ref _offsetTicks, value.Ticks);
    }

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
}
