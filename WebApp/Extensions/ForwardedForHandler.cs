namespace WebApp.Extensions;

/// <summary>
/// Tells the gateway who is really calling: the browser's address in <c>X-Forwarded-For</c>, so
/// that its per-client limits (sign-in, registration) count people, not this web app. The gateway
/// believes the header only from the proxies it is configured to trust
/// (<c>ForwardedHeaders:KnownProxies</c> / <c>KnownNetworks</c>); from anyone else it is ignored.
/// </summary>
internal sealed class ForwardedForHandler(IHttpContextAccessor accessor) : DelegatingHandler
{
    public const string HeaderName = "X-Forwarded-For";

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // RemoteIpAddress is the browser's, or — behind an ingress with forwarded headers enabled —
        // the address that ingress reported. Exactly one address is sent: whatever the browser put
        // in its own X-Forwarded-For is not passed on.
        request.Headers.Remove(HeaderName);
        if (accessor.HttpContext?.Connection.RemoteIpAddress is { } address)
        {
            var client = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            request.Headers.TryAddWithoutValidation(HeaderName, client.ToString());
        }

        return base.SendAsync(request, cancellationToken);
    }
}
