using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using WebApp.Auth;

namespace WebApp.Apis;

/// <summary>Endpoints of the web app that are not pages: signing out.</summary>
internal static class AccountApi
{
    public static IEndpointRouteBuilder MapAccountApi(this IEndpointRouteBuilder app)
    {
        // A POST with the antiforgery token (the form in the header): no other site can sign you out.
        // The middleware checks the token; this endpoint binds no form, so it reads the verdict itself.
        app.MapPost("/signout", SignOut)
            .WithName("SignOut")
            .WithMetadata(new RequireAntiforgeryTokenAttribute());
        return app;
    }

    /// <summary>
    /// Revokes the session at the gateway (its refresh token stops working) and deletes the cookie.
    /// The cookie goes even when the gateway cannot be told: the person asked to be signed out here.
    /// </summary>
    public static async Task<Results<RedirectHttpResult, ProblemHttpResult>> SignOut(
        HttpContext context,
        GatewayApi api,
        SignedOutSessions signedOut,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        if (context.Features.Get<IAntiforgeryValidationFeature>() is not { IsValid: true })
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Sign-out refused",
                detail: "The sign-out form was not sent from this site. Use the Sign out button.");
        }

        var session = await context.AuthenticateAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        if (session.Properties is { } properties
            && properties.Items.TryGetValue(SessionSignIn.SessionIdItem, out var sessionId) && sessionId is not null
            && SessionTokens.GetExpiry(properties) is { } expiry)
        {
            signedOut.Add(sessionId, expiry);
        }

        var accessToken = session.Properties?.GetTokenValue(SessionTokens.AccessToken);
        var refreshToken = session.Properties?.GetTokenValue(SessionTokens.RefreshToken);
        if (accessToken is not null && refreshToken is not null)
        {
            var result = await api.LogoutAsync(accessToken, refreshToken, cancellationToken);
            if (!result.IsOk)
            {
                loggers.CreateLogger(typeof(AccountApi)).LogWarning("The gateway did not revoke the session on sign-out (status {Status})", result.Status);
            }
        }

        await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
        return TypedResults.LocalRedirect("/signin?reason=signed-out");
    }
}
