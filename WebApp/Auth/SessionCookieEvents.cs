using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using WebApp.Settings;

namespace WebApp.Auth;

/// <summary>
/// Keeps the session's access token fresh: on each request whose token expires within
/// <see cref="CookieSessionOptions.RefreshBefore"/>, the refresh token is traded for a new pair and the
/// cookie is rewritten. A refused refresh (revoked, expired, account deleted) ends the session and
/// the sign-in page says why.
/// </summary>
internal sealed class SessionCookieEvents(
    RefreshCoordinator refreshes,
    SignedOutSessions signedOut,
    IOptions<CookieSessionOptions> options,
    TimeProvider time,
    ILogger<SessionCookieEvents> logger) : CookieAuthenticationEvents
{
    public const string SessionEndedReason = "session-ended";
    private const string SessionEndedItem = "moviedb.session-ended";

    public override async Task ValidatePrincipal(CookieValidatePrincipalContext context)
    {
        var now = time.GetUtcNow();
        var expiresAt = SessionTokens.GetExpiry(context.Properties);
        var refreshToken = context.Properties.GetTokenValue(SessionTokens.RefreshToken);
        if (expiresAt is null || refreshToken is null
            || !context.Properties.Items.TryGetValue(SessionSignIn.SessionIdItem, out var sessionId) || sessionId is null
            || await signedOut.ContainsAsync(sessionId))
        {
            await EndAsync(context);
            return;
        }

        if (expiresAt.Value - now > options.Value.RefreshBefore)
        {
            return;
        }

        // Not tied to this request: other requests of the same session may wait on this refresh, and
        // a refresh abandoned half-way would spend the refresh token without keeping its successor.
        var api = context.HttpContext.RequestServices.GetRequiredService<GatewayApi>();
        var result = await refreshes.RefreshAsync(refreshToken, () => api.RefreshAsync(refreshToken, CancellationToken.None));
        if (result is { IsOk: true, Value: { } tokens })
        {
            SessionTokens.Store(context.Properties, tokens, now);
            // Roles come from the new token: a change an admin made shows from now on.
            context.ReplacePrincipal(SessionTokens.CreatePrincipal(tokens.AccessToken));
            context.ShouldRenew = true;
            return;
        }

        if (result.Problem is { IsUnavailable: true })
        {
            // The gateway or the broker is away: keep the session; pages report the outage, and
            // the next request tries again.
            logger.LogWarning("The access token could not be refreshed (status {Status}); the session is kept for another try", result.Status);
            return;
        }

        logger.LogInformation("The refresh token was refused (status {Status}): the session ends", result.Status);
        await EndAsync(context);
    }

    public override Task RedirectToLogin(RedirectContext<CookieAuthenticationOptions> context)
    {
        if (context.HttpContext.Items.ContainsKey(SessionEndedItem))
        {
            context.RedirectUri += (context.RedirectUri.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "reason=" + SessionEndedReason;
        }

        return base.RedirectToLogin(context);
    }

    private static async Task EndAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        context.HttpContext.Items[SessionEndedItem] = true;
        await context.HttpContext.SignOutAsync(context.Scheme.Name);
    }
}
