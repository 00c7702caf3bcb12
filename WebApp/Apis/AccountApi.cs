using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using WebApp.Auth;
using WebApp.Settings;

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
    /// Revokes the session at the gateway (its refresh token stops working), marks it signed out for
    /// every instance (a copy of the cookie stops working at once), and deletes the cookie. The cookie
    /// goes whatever happens — the person asked to be signed out here —, and when either of the other
    /// two could not be done the sign-in page says so (fails closed: never a silent "signed out").
    /// </summary>
    public static async Task<Results<RedirectHttpResult, ProblemHttpResult>> SignOut(
        HttpContext context,
        GatewayApi api,
        SignedOutSessions signedOut,
        IOptions<CookieSessionOptions> options,
        TimeProvider time,
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
        var revoked = true;
        var accessToken = session.Properties?.GetTokenValue(SessionTokens.AccessToken);
        var refreshToken = session.Properties?.GetTokenValue(SessionTokens.RefreshToken);
        if (accessToken is not null && refreshToken is not null)
        {
            // 401: the session was over at the gateway already.
            var result = await api.LogoutAsync(accessToken, refreshToken, cancellationToken);
            if (!result.IsOk && result.Status != StatusCodes.Status401Unauthorized)
            {
                loggers.CreateLogger(typeof(AccountApi)).LogWarning("The gateway did not revoke the session on sign-out (status {Status})", result.Status);
                revoked = false;
            }
        }

        var everywhere = await SessionSignIn.SignOutAsync(context, signedOut, options.Value, time) && revoked;
        return TypedResults.LocalRedirect(everywhere ? "/signin?reason=signed-out" : "/signin?reason=" + NotSignedOutEverywhereReason);
    }

    /// <summary>The sign-in page's reason when sign-out could not make sure the session ended everywhere.</summary>
    public const string NotSignedOutEverywhereReason = "signed-out-here";
}
