using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// MovieDb as real processes, configured the way <c>scripts/run-local.sh</c> configures them (the
/// AppHost's keys, the user store on a shared LiteDB file), with each process under the test's
/// control: kill one, start another, run several user service instances. New accounts need no
/// activation, unless a subclass asks for <see cref="WithMail"/>: then a notification service and an
/// SMTP server (aiosmtpd) run too, and accounts are activated through the mailed link.
/// </summary>
public class ProcessSystem(TestServers servers) : MovieDbSystem
{
    public const string SigningKey = InProcessSystem.SigningKey;

    private readonly List<ServiceProcess> _userServices = [];
    private readonly List<ServiceProcess> _notificationServices = [];
    private readonly List<ServiceProcess> _moreGateways = [];

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "moviedb-tests", "processes-" + Guid.NewGuid().ToString("N")[..8]);

    public TestDatabase Database { get; private set; } = null!;

    public TestVirtualHost VirtualHost { get; private set; } = null!;

    public ServiceProcess MovieService { get; private set; } = null!;

    public ServiceProcess Gateway { get; private set; } = null!;

    public IReadOnlyList<ServiceProcess> UserServices => _userServices;

    public IReadOnlyList<ServiceProcess> NotificationServices => _notificationServices;

    /// <summary>The SMTP server, when <see cref="WithMail"/>.</summary>
    public TestMailServer? Smtp { get; private set; }

    public override Maildir? Mailbox => Smtp?.Mailbox;

    /// <summary>Whether accounts must be activated through a mailed link (a notification service and an SMTP server run).</summary>
    protected virtual bool WithMail => false;

    /// <summary>Whether the SMTP server holds its answers on request (<see cref="TestMailServer.Hold"/>).</summary>
    protected virtual bool HoldingSmtp => false;

    public string UsersFile => Path.Combine(Directory, "users.db");

    /// <summary>Extra settings for every service (environment-variable form: <c>Messaging__RequestTimeout</c>).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    /// <summary>How many user service instances to start.</summary>
    protected virtual int UserServiceInstances => 1;

    public override HttpClient CreateClient() => new() { BaseAddress = Gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };

    public override async ValueTask InitializeAsync()
    {
        Database = await servers.MariaDb.CreateDatabaseAsync();
        VirtualHost = await servers.RabbitMq.CreateVirtualHostAsync();
        System.IO.Directory.CreateDirectory(Directory);
        if (WithMail)
        {
            Smtp = await servers.Smtp.StartAsync(HoldingSmtp);
        }

        MovieService = ServiceProcess.Start("MovieService", Environment(new()
        {
            ["ConnectionStrings__moviedb"] = Database.ConnectionString,
        }));
        for (var i = 0; i < UserServiceInstances; i++)
        {
            StartUserService();
        }

        Gateway = StartGatewayProcess();
        if (WithMail)
        {
            StartNotificationService();
        }

        await MovieService.WaitUntilHealthyAsync();
        foreach (var userService in _userServices)
        {
            await userService.WaitUntilHealthyAsync();
        }

        await Gateway.WaitUntilHealthyAsync();
        foreach (var notificationService in _notificationServices)
        {
            await notificationService.WaitUntilHealthyAsync();
        }

        using var client = CreateClient();
        await Wait.UntilHealthAsync(client, "the gateway is fully ready");
    }

    /// <summary>Stops the gateway and starts a new one (on another port): a restart, or a new revision.</summary>
    public async Task RestartGatewayAsync()
    {
        await Gateway.DisposeAsync();
        Gateway = StartGatewayProcess();
        await Gateway.WaitUntilHealthyAsync();
        using var client = CreateClient();
        await Wait.UntilHealthAsync(client, "the restarted gateway is fully ready");
    }

    /// <summary>Starts one more gateway instance in front of the same services and waits until it is ready.</summary>
    public async Task<ServiceProcess> StartAnotherGatewayAsync()
    {
        var gateway = StartGatewayProcess();
        _moreGateways.Add(gateway);
        await gateway.WaitUntilHealthyAsync();
        using var client = new HttpClient { BaseAddress = gateway.BaseAddress };
        await Wait.UntilHealthAsync(client, "the other gateway is fully ready");
        return gateway;
    }

    private ServiceProcess StartGatewayProcess() => ServiceProcess.Start("Gateway", Environment(new()
    {
        ["services__movieservice__http__0"] = MovieService.BaseAddress.ToString().TrimEnd('/'),
        ["Jwt__SigningKey"] = SigningKey,
        ["ConnectionStrings__cache"] = CacheAddress,
        ["Cache__KeyPrefix"] = CacheKeyPrefix,
    }));

    /// <summary>The gateways' keys in the shared Redis: this system's own.</summary>
    public string CacheKeyPrefix { get; } = RedisServer.NewKeyPrefix();

    /// <summary>Where the gateways find Redis (<c>host:port</c>); a subclass may put a forwarder in between.</summary>
    protected virtual string CacheAddress => servers.Redis.Address;

    /// <summary>Starts one more user service instance on the same store and broker (not waiting for it).</summary>
    public ServiceProcess StartUserService()
    {
        var process = ServiceProcess.Start("UserService", Environment(new()
        {
            ["ConnectionStrings__userdb"] = $"Filename={UsersFile};Connection=shared",
            ["Admin__Password"] = AdminPassword,
            ["Accounts__RequireActivation"] = WithMail ? "true" : "false",
        }));
        _userServices.Add(process);
        return process;
    }

    /// <summary>Starts one more notification service instance, sharing the record of sent mails (not waiting for it).</summary>
    public ServiceProcess StartNotificationService()
    {
        var process = ServiceProcess.Start("NotificationService", Environment(new()
        {
            ["ConnectionStrings__mail"] = Smtp?.ConnectionString ?? throw new InvalidOperationException("This system runs without mail."),
            ["Notifications__SentMailStore"] = $"Filename={Path.Combine(Directory, "sent-mail.db")};Connection=shared",
            ["Notifications__ActivationUrl"] = "http://localhost:5090/activate?token={token}",
            ["Notifications__PasswordResetUrl"] = "http://localhost:5090/reset-password?token={token}",
            ["Notifications__RetryDelay"] = "00:00:00.200",
            ["Notifications__MaxRetryDelay"] = "00:00:01",
        }));
        _notificationServices.Add(process);
        return process;
    }

    private Dictionary<string, string?> Environment(Dictionary<string, string?> specific)
    {
        var environment = new Dictionary<string, string?>
        {
            ["ConnectionStrings__messaging"] = VirtualHost.ConnectionString,
            ["PasswordHasher__IterationCount"] = "10000",
            ["GatewayIdentity__SigningKey"] = InProcessSystem.IdentityKey,
            ["Messaging__SigningKey"] = InProcessSystem.MessagingSigningKey,
            ["Messaging__EventSigningKey"] = InProcessSystem.EventSigningKey,
            ["RateLimiting__SignIn__PermitLimit"] = "100000",
            ["RateLimiting__Registration__PermitLimit"] = "100000",
            ["RateLimiting__Anonymous__TokenLimit"] = "100000",
            ["RateLimiting__Anonymous__TokensPerSecond"] = "100000",
            ["RateLimiting__Api__TokenLimit"] = "100000",
            ["RateLimiting__Api__TokensPerSecond"] = "100000",
            ["Aspire__RabbitMQ__Client__ConnectionFactory__NetworkRecoveryInterval"] = "00:00:01",
            // Answers, not 202s or 504s, on a busy 2-core machine; tests of time-outs set their own.
            ["Messaging__RequestTimeout"] = "00:00:30",
        };
        foreach (var (key, value) in Settings.Concat(specific))
        {
            environment[key] = value;
        }

        return environment;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var process in new[] { Gateway, MovieService }.Concat(_moreGateways).Concat(_userServices).Concat(_notificationServices).Where(p => p is not null))
        {
            await process.DisposeAsync();
        }

        if (Smtp is not null)
        {
            await Smtp.DisposeAsync();
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
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }

        GC.SuppressFinalize(this);
    }
}
