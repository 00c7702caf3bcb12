using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace MovieDb.Tests.Unit;

public sealed class ServiceDiscoveryDestinationResolverTests
{
    private static async Task<IReadOnlyDictionary<string, DestinationConfig>> ResolveAsync(Dictionary<string, string?> configuration, string address)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        services.AddServiceDiscovery();
        await using var provider = services.BuildServiceProvider();
        var resolver = new ServiceDiscoveryDestinationResolver(provider.GetRequiredService<ServiceEndpointResolver>());

        var result = await resolver.ResolveDestinationsAsync(
            new Dictionary<string, DestinationConfig> { ["movieservice"] = new() { Address = address } },
            TestContext.Current.CancellationToken);
        return result.Destinations;
    }

    [Fact]
    public async Task The_address_the_AppHost_injects_replaces_the_logical_name()
    {
        var destinations = await ResolveAsync(new() { ["services:movieservice:http:0"] = "http://localhost:5081" }, "http://movieservice");

        var destination = Assert.Single(destinations);
        Assert.Equal("http://localhost:5081/", destination.Value.Address);
    }

    [Fact]
    public async Task Every_configured_endpoint_becomes_a_destination_and_the_path_is_kept()
    {
        var destinations = await ResolveAsync(new()
        {
            ["services:movieservice:http:0"] = "http://10.0.0.1:8080",
            ["services:movieservice:http:1"] = "http://10.0.0.2:8080",
        }, "http://movieservice/base");

        Assert.Equal(["http://10.0.0.1:8080/base", "http://10.0.0.2:8080/base"], destinations.Values.Select(d => d.Address).Order());
    }

    [Fact]
    public void A_dns_or_ip_endpoint_keeps_the_configured_scheme()
    {
        Assert.Equal("http://movieservice.internal:8080/", ServiceDiscoveryDestinationResolver.Rebase(new Uri("http://movieservice"), new DnsEndPoint("movieservice.internal", 8080)).ToString());
        Assert.Equal("http://127.0.0.1:9000/x", ServiceDiscoveryDestinationResolver.Rebase(new Uri("http://movieservice/x"), new IPEndPoint(IPAddress.Loopback, 9000)).ToString());
    }
}
