using Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;
using MovieService;
using NotificationService;
using UserService;
using WebApp;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// All three services in the test process: the movie service on a real Kestrel port (the gateway's
/// YARP forwards to it over HTTP), the user service and the gateway on test servers; real MariaDB
/// and RabbitMQ, the user store on LiteDB in a temporary file; new accounts need no activation until
/// <see cref="StartMailedActivationAsync"/>. With <see cref="StartsWebApp"/>, the web app too, on a
/// real Kestrel port for a browser, and the gateway then on one as well (the web app reaches it over
/// HTTP by service discovery, as everywhere else).
/// </summary>
public class InProcessSystem(TestServers servers) : MovieDbSystem
{
    public const string SigningKey = "in-process-tests-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";

    /// <summary>The key the gateway signs forwarded identities with, and the movie service checks them with.</summary>
    public const string IdentityKey = "in-process-tests-identity-key-0123456789-abcdefghijklmnopqrstuvwxy";

    /// <summary>The key the gateway signs its requests to the user service with, and the user service checks them with.</summary>
    public const string MessagingSigningKey = "in-process-tests-messaging-signing-key-0123456789-abcdefghijklmnopq";

    /// <summary>The key of the user service's events (Messaging:EventSigningKey), held by it and by the movie and notification services.</summary>
    public const string EventSigningKey = "in-process-tests-event-signing-key-0123456789-abcdefghijklmnopqrstu";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));
    private bool _requireActivation;
    private Dictionary<string, string?> _gatewaySettings = [];

    public TestDatabase Database { get; private set; } = null!;

    /// <summary>The gateway's and the web app's keys in the shared Redis: this system's own.</summary>
    public string CacheKeyPrefix { get; } = RedisServer.NewKeyPrefix();

    /// <summary>The test run's servers.</summary>
    public TestServers Servers => servers;

    /// <summary>Where the gateway and the web app find Redis (<c>host:port</c>); a subclass may put a forwarder in between.</summary>
    protected virtual string CacheAddress => servers.Redis.Address;

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public ServiceFactory<MovieServiceApp> MovieService { get; private set; } = null!;

    public ServiceFactory<UserServiceApp>? UserService { get; private set; }

    public ServiceFactory<GatewayApp> Gateway { get; private set; } = null!;

    public Uri MovieServiceAddress { get; private set; } = null!;

    public ServiceFactory<WebAppApp>? WebApp { get; private set; }

    /// <summary>Where a browser finds the web app (when <see cref="StartsWebApp"/>).</summary>
    public Uri WebAppAddress { get; private set; } = null!;

    /// <summary>The SMTP server the activation mails go to, once <see cref="StartMailedActivationAsync"/> ran.</summary>
    public TestMailServer? Smtp { get; private set; }

    public ServiceFactory<NotificationServiceApp>? NotificationService { get; private set; }

    public override Maildir? Mailbox => Smtp?.Mailbox;

    /// <summary>Settings a subclass adds to (or changes in) the gateway's.</summary>
    protected virtual IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>();

    /// <summary>Starts the web app as well, and the gateway on a real port for it.</summary>
    protected virtual bool StartsWebApp => false;

    /// <summary>Settings a subclass adds to (or changes in) the web app's.</summary>
    protected virtual IDictionary<string, string?> WebAppSettings => new Dictionary<string, string?>();

    public override HttpClient CreateClient() => Gateway.CreateClient();

    public override async ValueTask InitializeAsync()
    {
        Database = await servers.MariaDb.CreateDatabaseAsync();
        VirtualHost = await servers.RabbitMq.CreateVirtualHostAsync();

        MovieService = MovieServiceFixture.Create(Database.ConnectionString, VirtualHost.ConnectionString);
        using (var movieClient = MovieService.CreateClient())
        {
            MovieServiceAddress = movieClient.BaseAddress!;
            await Wait.UntilAsync(async () => (await movieClient.GetAsync("/health", TestContext.Current.CancellationToken)).IsSuccessStatusCode, "the movie service is ready");
        }

        await StartUserServiceAsync();

        var gatewaySettings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
            ["services:movieservice:http:0"] = MovieServiceAddress.ToString().TrimEnd('/'),
            ["Jwt:SigningKey"] = SigningKey,
            ["GatewayIdentity:SigningKey"] = IdentityKey,
            ["Messaging:SigningKey"] = MessagingSigningKey,
            ["RateLimiting:SignIn:PermitLimit"] = "100000",
            ["RateLimiting:Registration:PermitLimit"] = "100000",
            ["RateLimiting:PasswordResets:PermitLimit"] = "100000",
            ["RateLimiting:Anonymous:TokenLimit"] = "100000",
            ["RateLimiting:Anonymous:TokensPerSecond"] = "100000",
            ["RateLimiting:Api:TokenLimit"] = "100000",
            ["RateLimiting:Api:TokensPerSecond"] = "100000",
            // Answers, not 202s or 504s, on a busy 2-core machine; tests of time-outs set their own.
            ["Messaging:RequestTimeout"] = "00:00:30",
            ["ConnectionStrings:cache"] = CacheAddress,
            ["Cache:KeyPrefix"] = CacheKeyPrefix,
        };
        if (StartsWebApp)
        {
            // The web app calls from loopback and names the browser in X-Forwarded-For.
            gatewaySettings["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1";
        }

        foreach (var (key, value) in GatewaySettings)
        {
            gatewaySettings[key] = value;
        }

        _gatewaySettings = gatewaySettings;
        Gateway = new ServiceFactory<GatewayApp>(gatewaySettings);
        if (StartsWebApp)
        {
            Gateway.StartOnLoopback();
        }

        using var gateway = Gateway.CreateClient();
        await Wait.UntilHealthAsync(gateway, "the gateway is ready");

        if (StartsWebApp)
        {
            await StartWebAppAsync(gateway.BaseAddress!);
        }
    }

    /// <summary>Stops the web app and starts a new one with the same keys folder: a redeployment, or a crash.</summary>
    public async Task RestartWebAppAsync()
    {
        var gatewayAddress = new Uri(WebApp!.Services.GetRequiredService<IConfiguration>()["services:gateway:http:0"]!);
        await WebApp.DisposeAsync();
        await StartWebAppAsync(gatewayAddress);
    }

    /// <summary>Starts another gateway instance with the same settings on a port of its own (for a browser or another web app), ready.</summary>
    public async Task<ServiceFactory<GatewayApp>> StartAnotherGatewayAsync()
    {
        var gateway = new ServiceFactory<GatewayApp>(_gatewaySettings);
        gateway.StartOnLoopback();
        using var client = gateway.CreateClient();
        await Wait.UntilHealthAsync(client, "the other gateway is ready");
        return gateway;
    }

    /// <summary>Starts another web app instance with the same settings, in front of <paramref name="gatewayAddress"/>, ready.</summary>
    public async Task<ServiceFactory<WebAppApp>> StartAnotherWebAppAsync(Uri gatewayAddress)
    {
        var webApp = new ServiceFactory<WebAppApp>(WebAppConfiguration(gatewayAddress));
        webApp.StartOnLoopback();
        using var client = webApp.CreateClient();
        await Wait.UntilHealthAsync(client, "the other web app is ready");
        return webApp;
    }

    private Dictionary<string, string?> WebAppConfiguration(Uri gatewayAddress)
    {
        var settings = new Dictionary<string, string?>
        {
            ["services:gateway:http:0"] = gatewayAddress.ToString().TrimEnd('/'),
            ["ConnectionStrings:cache"] = CacheAddress,
            ["Cache:KeyPrefix"] = CacheKeyPrefix,
        };
        foreach (var (key, value) in WebAppSettings)
        {
            settings[key] = value;
        }

        return settings;
    }

    private async Task StartWebAppAsync(Uri gatewayAddress)
    {
        WebApp = new ServiceFactory<WebAppApp>(WebAppConfiguration(gatewayAddress));
        WebApp.StartOnLoopback();
        using var client = WebApp.CreateClient();
        WebAppAddress = client.BaseAddress!;
        await Wait.UntilHealthAsync(client, "the web app is ready");
    }

    /// <summary>
    /// From now on new accounts are pending until activated, as deployed: an SMTP server (aiosmtpd;
    /// skips or, in CI, fails the calling test without it), the notification service with links to
    /// the web app's activation page, and the user service restarted to require activation.
    /// </summary>
    public async Task StartMailedActivationAsync()
    {
        if (Smtp is not null)
        {
            return;
        }

        Smtp = await servers.Smtp.StartAsync();
        NotificationService = new ServiceFactory<NotificationServiceApp>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
            ["ConnectionStrings:mail"] = Smtp.ConnectionString,
            ["Notifications:ActivationUrl"] = new Uri(StartsWebApp ? WebAppAddress : new Uri("http://localhost:5090/"), "activate").ToString(),
            ["Notifications:PasswordResetUrl"] = new Uri(StartsWebApp ? WebAppAddress : new Uri("http://localhost:5090/"), "reset-password").ToString(),
            ["Notifications:SentMailStore"] = $"Filename={Path.Combine(_directory, "sent-mail.db")};Connection=shared",
            ["Messaging:EventSigningKey"] = EventSigningKey,
        });
        using (var client = NotificationService.CreateClient())
        {
            await Wait.UntilHealthAsync(client, "the notification service is ready");
        }

        await StopUserServiceAsync();
        _requireActivation = true;
        await StartUserServiceAsync();
    }

    /// <summary>Starts (or restarts) the user service on the same store and broker.</summary>
    public async Task StartUserServiceAsync()
    {
        UserService = new ServiceFactory<UserServiceApp>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
            ["ConnectionStrings:userdb"] = $"Filename={Path.Combine(_directory, "users.db")};Connection=shared",
            ["Admin:Password"] = AdminPassword,
            ["Messaging:SigningKey"] = MessagingSigningKey,
            ["Messaging:EventSigningKey"] = EventSigningKey,
            ["PasswordHasher:IterationCount"] = "10000",
            // Accounts sign in at once here unless a test turned the mailed activation on; it is also
            // proven by ActivationTests, the process launcher (ActivationCrashTests) and run-local (RunLocalTests).
            ["Accounts:RequireActivation"] = _requireActivation ? "true" : "false",
        });
        using var client = UserService.CreateClient();
        await Wait.UntilHealthAsync(client, "the user service is ready");
    }

    /// <summary>Stops the user service: requests queue up in RabbitMQ, nobody answers them.</summary>
    public async Task StopUserServiceAsync()
    {
        if (UserService is not null)
        {
            await UserService.DisposeAsync();
            UserService = null;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        // Null-safe: a start-up that failed (or skipped for a missing server) leaves parts unset.
        if (WebApp is not null)
        {
            await WebApp.DisposeAsync();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        await StopUserServiceAsync();
        if (NotificationService is not null)
        {
            await NotificationService.DisposeAsync();
        }

        if (Smtp is not null)
        {
            await Smtp.DisposeAsync();
        }

        if (MovieService is not null)
        {
            await MovieService.DisposeAsync();
        }

        if (VirtualHost is not null)
        {
            await VirtualHost.DisposeAsync();
        }

        if (Database is not null)
        {
            await Database.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }

        GC.SuppressFinalize(this);
    }
}
