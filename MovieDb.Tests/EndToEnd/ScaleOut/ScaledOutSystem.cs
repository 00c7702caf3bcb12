using Gateway;
using Microsoft.Playwright;
using MovieDb.Tests.EndToEnd.Browser;
using MovieDb.Tests.Infrastructure;
using WebApp;

namespace MovieDb.Tests.EndToEnd.ScaleOut;

/// <summary>
/// MovieDb scaled out as Container Apps runs it: two gateways and two web apps sharing one Redis,
/// each pair behind a round-robin load balancer with no session affinity (web app 1 calls gateway 1,
/// web app 2 gateway 2). Browsers and API clients go through the balancers, so consecutive requests
/// of one person land on different instances.
/// </summary>
public class ScaledOutSystem(TestServers servers) : WebAppSystem(servers)
{
    public ServiceFactory<GatewayApp> SecondGateway { get; private set; } = null!;

    public ServiceFactory<WebAppApp> SecondWebApp { get; private set; } = null!;

    /// <summary>The gateways' balancer: where API clients go.</summary>
    public RoundRobinProxy Gateways { get; private set; } = null!;

    /// <summary>The web apps' balancer: where browsers go.</summary>
    public RoundRobinProxy WebApps { get; private set; } = null!;

    public Uri FirstWebAppAddress => WebAppAddress;

    public Uri SecondWebAppAddress { get; private set; } = null!;

    public Uri FirstGatewayAddress { get; private set; } = null!;

    public Uri SecondGatewayAddress { get; private set; } = null!;

    // Every browser and client here has an address of its own (X-Forwarded-For through the web apps):
    // the sign-in limit per address is low enough to reach in a test.
    // What these tests prove is that the instances share Redis; a reply slower than the default 500 ms
    // (the test process hosts every service, and a full suite keeps both cores busy) would send an
    // instance to its per-instance fallback for 5 s and split the counts: a CI run showed it once.
    // CacheOutageTests proves the time-out itself.
    protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>
    {
        ["RateLimiting:SignIn:PermitLimit"] = "10",
        ["Cache:OperationTimeout"] = "00:00:05",
    };

    /// <summary>
    /// Whether the web apps refresh the access token on every request (as WebAppSystem does), or only
    /// in its last second: then a cookie works on its access token alone, and what refuses a copy of a
    /// signed-out one is the web app's own mark, not the gateway's revoked refresh token.
    /// </summary>
    protected virtual bool RefreshOnEveryRequest => false;

    protected override IDictionary<string, string?> WebAppSettings => new Dictionary<string, string?>
    {
        ["Session:RefreshBefore"] = RefreshOnEveryRequest ? "00:15:00" : "00:00:01",
        ["Cache:OperationTimeout"] = "00:00:05",
    };

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        using (var first = Gateway.CreateClient())
        {
            FirstGatewayAddress = first.BaseAddress!;
        }

        SecondGateway = await StartAnotherGatewayAsync();
        using (var second = SecondGateway.CreateClient())
        {
            SecondGatewayAddress = second.BaseAddress!;
        }

        SecondWebApp = await StartAnotherWebAppAsync(SecondGatewayAddress);
        using (var secondWebApp = SecondWebApp.CreateClient())
        {
            SecondWebAppAddress = secondWebApp.BaseAddress!;
        }

        Gateways = await RoundRobinProxy.StartAsync(FirstGatewayAddress, SecondGatewayAddress);
        WebApps = await RoundRobinProxy.StartAsync(FirstWebAppAddress, SecondWebAppAddress);
    }

    /// <summary>A client of the gateways' balancer.</summary>
    public HttpClient CreateBalancedClient() => new() { BaseAddress = Gateways.Address, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A page in a browser context of its own, on the web apps' balancer.</summary>
    public Task<IPage> NewBalancedPageAsync() => Chromium.NewPageAsync(WebApps.Address);

    /// <summary>Restarts both web apps (a new revision): new processes, the same Redis.</summary>
    public async Task RestartWebAppsAsync()
    {
        await RestartWebAppAsync();
        await SecondWebApp.DisposeAsync();
        SecondWebApp = await StartAnotherWebAppAsync(SecondGatewayAddress);
        await WebApps.DisposeAsync();
        using var first = WebApp!.CreateClient();
        using var second = SecondWebApp.CreateClient();
        SecondWebAppAddress = second.BaseAddress!;
        WebApps = await RoundRobinProxy.StartAsync(first.BaseAddress!, SecondWebAppAddress);
    }

    public override async ValueTask DisposeAsync()
    {
        if (WebApps is not null)
        {
            await WebApps.DisposeAsync();
        }

        if (Gateways is not null)
        {
            await Gateways.DisposeAsync();
        }

        if (SecondWebApp is not null)
        {
            await SecondWebApp.DisposeAsync();
        }

        if (SecondGateway is not null)
        {
            await SecondGateway.DisposeAsync();
        }

        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
