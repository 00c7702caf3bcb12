using System.Net.Http.Headers;
using Microsoft.AspNetCore.Authentication;

namespace WebApp.Auth;

/// <summary>
/// Adds the signed-in person's access token, taken from the current request's cookie, to calls to
/// the gateway. Calls made outside a request (an interactive circuit) go without one.
/// </summary>
internal sealed class AccessTokenHandler(IHttpContextAccessor accessor) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null
            && accessor.HttpContext is { User.Identity.IsAuthenticated: true } context
            && await context.GetTokenAsync(SessionTokens.AccessToken) is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await base.SendAsync(request, cancellationToken);
    }
}
