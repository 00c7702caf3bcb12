using Gateway;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;
using MovieService;
using UserService;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// All three services in the test process: the movie service on a real Kestrel port (the gateway's
/// YARP forwards to it over HTTP), the user service and the gateway on test servers; real MariaDB
/// and RabbitMQ, the user store on LiteDB in a temporary file; new accounts need no activation.
/// </summary>
public class InProcessSystem(TestServers servers) : MovieDbSystem
{
    public const string SigningKey = "in-process-tests-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";

    /// <summary>The key the gateway signs forwarded identities with, and the movie service checks them with.</summary>
    public const string IdentityKey = "in-process-tests-identity-key-0123456789-abcdefghijklmnopqrstuvwxy";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));

    public TestDatabase Database { get; private set; } = null!;

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public ServiceFactory<MovieServiceApp> MovieService { get; private set; } = null!;

    public ServiceFactory<UserServiceApp>? UserService { get; private set; }

    public ServiceFactory<GatewayApp> Gateway { get; private set; } = null!;

    public Uri MovieServiceAddress { get; private set; } = null!;

    /// <summary>Settings a subclass adds to (or changes in) the gateway's.</summary>
    protected virtual IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>();

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
            ["RateLimiting:SignIn:PermitLimit"] = "100000",
            ["RateLimiting:Registration:PermitLimit"] = "100000",
            ["RateLimiting:Anonymous:TokenLimit"] = "100000",
            ["RateLimiting:Anonymous:TokensPerSecond"] = "100000",
            ["RateLimiting:Api:TokenLimit"] = "100000",
            ["RateLimiting:Api:TokensPerSecond"] = "100000",
            ["Messaging:RequestTimeout"] = "00:00:05",
        };
        foreach (var (key, value) in GatewaySettings)
        {
            gatewaySettings[key] = value;
        }

        Gateway = new ServiceFactory<GatewayApp>(gatewaySettings);
        using var gateway = Gateway.CreateClient();
        await Wait.UntilHealthAsync(gateway, "the gateway is ready");
    }

    /// <summary>Starts (or restarts) the user service on the same store and broker.</summary>
    public async Task StartUserServiceAsync()
    {
        UserService = new ServiceFactory<UserServiceApp>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = VirtualHost.ConnectionString,
            ["ConnectionStrings:userdb"] = $"Filename={Path.Combine(_directory, "users.db")};Connection=shared",
            ["Admin:Password"] = AdminPassword,
            ["PasswordHasher:IterationCount"] = "10000",
            // Accounts sign in at once here; the mailed activation is proven by ActivationTests,
            // the process launcher (ActivationCrashTests) and run-local (RunLocalTests).
            ["Accounts:RequireActivation"] = "false",
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
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        await StopUserServiceAsync();
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
