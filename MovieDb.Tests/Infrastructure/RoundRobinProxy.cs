using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// A load balancer in front of several instances of one service, as Container Apps' ingress is: every
/// request goes to the next instance in turn (YARP, round robin, no session affinity), on a port of
/// 127.0.0.1. The client's <c>Host</c> and its own <c>X-Forwarded-For</c> pass through unchanged, as
/// Container Apps' ingress passes them.
/// </summary>
public sealed class RoundRobinProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RoundRobinProxy(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public static async Task<RoundRobinProxy> StartAsync(params Uri[] instances)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig
            {
                RouteId = "all",
                ClusterId = "instances",
                Match = new RouteMatch { Path = "{**catch-all}" },
                Transforms =
                [
                    new Dictionary<string, string> { ["X-Forwarded"] = "Off" },
                    new Dictionary<string, string> { ["RequestHeaderOriginalHost"] = "true" },
                ],
            }],
            [new ClusterConfig
            {
                ClusterId = "instances",
                LoadBalancingPolicy = "RoundRobin",
                Destinations = instances.Select((uri, i) => (uri, i)).ToDictionary(d => $"instance-{d.i}", d => new DestinationConfig { Address = d.uri.ToString() }),
            }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.StartAsync(TestContext.Current.CancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RoundRobinProxy(app, new Uri(address.EndsWith('/') ? address : address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
