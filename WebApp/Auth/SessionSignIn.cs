using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace WebApp.Auth;

/// <summary>Starts and ends the cookie session around the gateway's token pair.</summary>
internal static class SessionSignIn
{
    /// <summary>A random id per session, kept across refreshes: what sign-out revokes.</summary>
    public const string SessionIdItem = "sid";

    public static Task SignInAsync(HttpContext context, TokenPair tokens, TimeProvider time)
    {
        var properties = new AuthenticationProperties { IsPersistent = false };
        properties.Items[SessionIdItem] = Guid.NewGuid().ToString("N");
        SessionTokens.Store(properties, tokens, time.GetUtcNow());
        return context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, SessionTokens.CreatePrincipal(tokens.AccessToken), properties);
    }

    /// <summary>
    /// Ends the cookie session: marks it signed out for every instance (for a whole session lifetime:
    /// any copy of the cookie expires by then) and deletes the cookie. False when the mark could not be
    /// shared.
    /// </summary>
    public static async Task<bool> SignOutAsync(HttpContext context, SignedOutSessions signedOut, Settings.CookieSessionOptions options, TimeProvider time)
    {
        var session = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        var everywhere = true;
        if (session.Properties is { } properties && properties.Items.TryGetValue(SessionIdItem, out var sessionId) && sessionId is not null)
        {
            // A copy made at the last renewal lives a whole lifetime from it, at most from now.
            everywhere = await signedOut.AddAsync(sessionId, time.GetUtcNow() + options.Lifetime);
        }

        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return everywhere;
    }

    /// <summary>
    /// Only paths of this app: a sign-in link cannot send anyone elsewhere. Backslashes, spaces and
    /// control characters are refused too: browsers drop or turn them into slashes, so "/\t/evil"
    /// would become "//evil", another site.
    /// </summary>
    public static string LocalUrlOr(string? url, string fallback) =>
        url is { Length: > 0 } && url[0] == '/' && (url.Length == 1 || url[1] != '/')
            && !url.Any(c => c == '\\' || char.IsWhiteSpace(c) || char.IsControl(c))
            ? url
            : fallback;
}
