internal static class GatewayResourceExtensions
{
    /// <summary>
    /// Aspire turns on ASP.NET Core's forwarded headers for every project, trusting X-Forwarded-For
    /// from anyone who can reach the port. The gateway counts its rate limits per client address, so
    /// it believes forwarded addresses only from where its proxies are: deployed, the networks of the
    /// Container Apps environment (its ingress and the web app: private and carrier-grade NAT ranges);
    /// run locally, the loopback address the web app (and everything else, through DCP) comes from.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithForwardedHeadersFromProxies(this IResourceBuilder<ProjectResource> gateway, bool runMode) =>
        runMode
            ? gateway.WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "false")
                .WithEnvironment("ForwardedHeaders__KnownProxies__0", "127.0.0.1")
                .WithEnvironment("ForwardedHeaders__KnownProxies__1", "::1")
            : gateway.WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "false")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__0", "10.0.0.0/8")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__1", "172.16.0.0/12")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__2", "192.168.0.0/16")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__3", "100.64.0.0/10");
}
