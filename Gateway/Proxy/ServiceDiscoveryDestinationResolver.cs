using System.Net;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;
using Yarp.ReverseProxy.Configuration;

namespace Yarp.ReverseProxy.ServiceDiscovery;

/// <summary>
/// Resolves YARP destinations such as <c>http://movieservice</c> through
/// Microsoft.Extensions.ServiceDiscovery, i.e. from the <c>services:movieservice:http:0</c>
/// configuration the AppHost injects (or DNS, when nothing is configured).
/// </summary>
/// <remarks>
/// A stand-in for the <c>Microsoft.Extensions.ServiceDiscovery.Yarp</c> package, which does not
/// restore on MovieDb's build machines; where it does, replace this file and its registration with
/// <c>.AddServiceDiscoveryDestinationResolver()</c>. Each resolved endpoint becomes one destination
/// (<c>{name}[{endpoint}]</c>), and YARP asks again when service discovery signals a change.
/// </remarks>
internal sealed class ServiceDiscoveryDestinationResolver(ServiceEndpointResolver resolver) : IDestinationResolver
{
    public async ValueTask<ResolvedDestinationCollection> ResolveDestinationsAsync(IReadOnlyDictionary<string, DestinationConfig> destinations, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
        var changeTokens = new List<IChangeToken>();
        foreach (var (name, destination) in destinations)
        {
            var address = new Uri(destination.Address);
            var source = await resolver.GetEndpointsAsync(address.GetLeftPart(UriPartial.Authority), cancellationToken);
            changeTokens.Add(source.ChangeToken);
            foreach (var endpoint in source.Endpoints)
            {
                var resolvedAddress = Rebase(address, endpoint.EndPoint);
                resolved[$"{name}[{resolvedAddress.Authority}]"] = destination with
                {
                    Address = resolvedAddress.ToString(),
                    Health = destination.Health is { } health ? Rebase(new Uri(health), endpoint.EndPoint).ToString() : null,
                };
            }
        }

        return new ResolvedDestinationCollection(resolved, new CompositeChangeToken(changeTokens));
    }

    /// <summary>The configured address with scheme, host and port taken from the endpoint; the path is kept.</summary>
    internal static Uri Rebase(Uri configured, EndPoint endpoint)
    {
        var builder = new UriBuilder(configured);
        switch (endpoint)
        {
            case DnsEndPoint dns:
                builder.Host = dns.Host;
                builder.Port = dns.Port > 0 ? dns.Port : -1;
                break;
            case IPEndPoint ip:
                builder.Host = ip.Address.ToString();
                builder.Port = ip.Port;
                break;
            default:
                // Configured endpoints are URIs ("http://localhost:5081"): the library's UriEndPoint.
                if (Uri.TryCreate(endpoint.ToString(), UriKind.Absolute, out var uri))
                {
                    builder.Scheme = uri.Scheme;
                    builder.Host = uri.Host;
                    builder.Port = uri.Port;
                }

                break;
        }

        return builder.Uri;
    }
}
