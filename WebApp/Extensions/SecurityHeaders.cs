namespace WebApp.Extensions;

/// <summary>
/// Headers on every answer: a strict Content-Security-Policy (scripts, styles and connections only
/// from this app: no inline script, no CDN), no framing, no sniffing, no referrer to other sites.
/// </summary>
internal static class SecurityHeaders
{
    // 'self' covers the app's own files, Blazor's framework script among them, and (for the one
    // interactive component) its WebSocket on the same origin. form-action 'self' keeps forms —
    // and the redirects that follow them — inside the app.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers.Remove("Server");
            return Task.CompletedTask;
        });

        await next(context);
    });
}
