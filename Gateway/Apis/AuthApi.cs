using System.Text.RegularExpressions;
using Gateway.Auth;
using Gateway.Limits;
using Gateway.Model;
using Gateway.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace Gateway.Apis;

/// <summary>Registration, activation, password reset, sign-in, token refresh and sign-out. Answers carry <c>Cache-Control: no-store</c>.</summary>
public static partial class AuthApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    // A refresh token is 43 characters; anything much longer cannot be one and is not sent on.
    private const int MaxRefreshTokenLength = 128;

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        // Anonymous except sign-out (AllowAnonymous on the group would override RequireAuthorization).
        var api = app.MapGroup("/api/auth")
            .WithTags("Auth")
            .WithBodyLimit(RequestBodyLimits.SmallJson)
            .AddEndpointFilter(static async (context, next) =>
            {
                context.HttpContext.Response.Headers.CacheControl = "no-store";
                return await next(context);
            });
        MapRegistrationRoutes(api);
        MapPasswordResetRoutes(api);
        MapSessionRoutes(api);
        return app;
    }

    /// <summary>Registration and activation: anonymous.</summary>
    private static void MapRegistrationRoutes(RouteGroupBuilder api)
    {
        api.MapPost("/register", Register)
            .WithName("Register")
            .AllowAnonymous()
            .WithSummary("Create an account")
            .WithDescription("201 with the account; 202 + Location when the broker accepted the registration but the user service has not answered yet; 400 invalid; 409 taken; 503 when nothing could be queued. Send an Idempotency-Key (16-128 characters, e.g. a UUID) to make retries safe.")
            .ProducesProblems(400, 409, 503)
            .RequireRateLimiting(RateLimiting.RegistrationPolicy);

        api.MapGet("/registrations/{requestId}", GetRegistrationStatus)
            .WithName("GetRegistrationStatus")
            .AllowAnonymous()
            .WithSummary("The outcome of a registration answered with 202")
            .ProducesProblems(400, 503, 504)
            .RequireRateLimiting(RateLimiting.AnonymousPolicy);

        api.MapPost("/activate", Activate)
            .WithName("Activate")
            .AllowAnonymous()
            .WithSummary("Activate an account, or confirm its new e-mail address, with the token from the mailed link")
            .WithDescription("200 with the account, also when this token already did its work (nothing changes) until it would have expired; 400 for an expired, replaced or unknown token; 409 when the new e-mail address was registered by another account meanwhile; 202 when the user service has not answered yet (sending the token again is safe); 503 when nothing could be queued.")
            .ProducesProblems(400, 409, 503)
            .RequireRateLimiting(RateLimiting.AnonymousPolicy);

        api.MapPost("/activation-email", SendActivationEmail)
            .WithName("SendActivationEmail")
            .AllowAnonymous()
            .WithSummary("Mail a new activation link to a pending account")
            .WithDescription("Always 202, whether or not a pending account has that user name or e-mail address: the answer reveals nothing. A pending account gets a new link (the first after a minute, each further one after twice the wait before, at most a day) and its previous link stops working. 400 when neither or both are given; 503 when nothing could be queued.")
            .ProducesProblems(400, 503)
            .RequireRateLimiting(RateLimiting.RegistrationPolicy);
    }

    /// <summary>A forgotten password: a link by mail, and the new password with its token. Anonymous.</summary>
    private static void MapPasswordResetRoutes(RouteGroupBuilder api)
    {
        api.MapPost("/password-reset", RequestPasswordReset)
            .WithName("RequestPasswordReset")
            .AllowAnonymous()
            .WithSummary("Mail a password-reset link to an active account")
            .WithDescription("Always 202, at once, whether or not an active account has that user name or e-mail address: neither the answer nor its time reveals anything. An active account gets a link to the web app's reset page that works once, for an hour (Accounts:PasswordResetTokenLifetime), and only until a newer one is sent (the first after a minute, each further one after twice the wait before, at most a day). Limited per client address (RateLimiting:PasswordResets). 400 when neither or both are given; 503 when nothing could be queued.")
            .ProducesProblems(400, 503)
            .RequireRateLimiting(RateLimiting.PasswordResetPolicy);

        api.MapPost("/password-reset/confirm", ConfirmPasswordReset)
            .WithName("ConfirmPasswordReset")
            .AllowAnonymous()
            .WithSummary("Set a new password with the token from a password-reset link")
            .WithDescription("200 when the password is set: every session and access token of the account ends, and nobody is signed in (sign in with the new password). 400 for a token that is unknown, replaced by a newer link, already used or expired (the detail says which), or a password that breaks the rules (8 to 128 characters); 202 when the user service has not answered yet (it will check the link when it does: sign in with the new password in a minute, or ask for a new link if that fails); 409 when the account kept changing meanwhile (try again); 503 when nothing could be queued.")
            .ProducesProblems(400, 409, 503)
            .RequireRateLimiting(RateLimiting.AnonymousPolicy);
    }

    /// <summary>Sign-in, refresh (anonymous) and sign-out (signed in).</summary>
    private static void MapSessionRoutes(RouteGroupBuilder api)
    {
        api.MapPost("/login", Login)
            .WithName("Login")
            .AllowAnonymous()
            .WithSummary("Sign in: an access token (15 minutes) and a refresh token")
            .WithDescription("Limited per client address, and per account: after repeated failures each further attempt on that account must wait (429 with Retry-After). A successful sign-in answers with a Device-Token header; a client that sends it back (Device-Token request header) on its next sign-ins to that account is counted on its own, so nobody else's failures make it wait. 401 for a wrong user name or password (one answer for both); 403 for an account not activated yet.")
            .ProducesProblems(400, 401, 403, 503, 504)
            .RequireRateLimiting(RateLimiting.SignInPolicy);

        api.MapPost("/refresh", Refresh)
            .WithName("Refresh")
            .AllowAnonymous()
            .WithSummary("Trade a refresh token for a new pair; a refresh token works once")
            .ProducesProblems(400, 401, 503, 504)
            .RequireRateLimiting(RateLimiting.SessionsPolicy);

        api.MapPost("/logout", Logout)
            .WithName("Logout")
            .WithSummary("Revoke a refresh token and its whole session")
            .ProducesProblems(400, 503)
            .RequireAuthorization()
            .RequireRateLimiting(RateLimiting.SessionsPolicy);
    }

    public static async Task<Results<Created<UserDto>, Accepted<CommandAccepted>, ProblemHttpResult>> Register(
        RegisterRequest body,
        [FromHeader(Name = IdempotencyKeyHeader)] string? idempotencyKey,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        if (idempotencyKey is not null && !IdempotencyKeyPattern().IsMatch(idempotencyKey))
        {
            return UserServiceResults.Invalid(new() { [IdempotencyKeyHeader] = ["Use 16 to 128 characters of letters, digits, '-', '_', '.' or ':' (a UUID is ideal)."] });
        }

        var command = new RegisterUser(body.UserName ?? string.Empty, body.Email ?? string.Empty, body.Password ?? string.Empty);

        // Checked here too, so bad input is a 400 now even when the command would only be queued.
        var errors = UserRules.Validate(command);
        if (errors.Count > 0)
        {
            return UserServiceResults.Invalid(errors, "Invalid registration");
        }

        var result = await services.Requests.SendAsync(command, new RequestOptions { RequestId = idempotencyKey ?? Guid.NewGuid().ToString() }, cancellationToken);
        return UserServiceResults.Command(result, services.HttpContext, user => TypedResults.Created($"/api/users/{user.Id}", user), "/api/auth/registrations/");
    }

    public static async Task<Results<Ok<CommandStatusResponse>, ProblemHttpResult>> GetRegistrationStatus(
        string requestId,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        if (!IdempotencyKeyPattern().IsMatch(requestId))
        {
            return UserServiceResults.Invalid(new() { ["requestId"] = ["Not a registration request id."] });
        }

        var result = await services.Requests.SendAsync(new GetRegistrationStatus(requestId), cancellationToken: cancellationToken);
        return UserServiceResults.Query(result, services.HttpContext, status => TypedResults.Ok(UserServiceResults.ToResponse(status)));
    }

    public static async Task<Results<Ok<UserDto>, Accepted<CommandAccepted>, ProblemHttpResult>> Activate(
        ActivateRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        // A malformed token cannot be anyone's: refused here, nothing is sent on.
        if (UserRules.CheckActivationToken(body.Token).ToArray() is { Length: > 0 } problems)
        {
            return UserServiceResults.Invalid(new() { ["token"] = problems }, "Invalid activation link");
        }

        var result = await services.Requests.SendAsync(new ActivateAccount(body.Token!), cancellationToken: cancellationToken);

        // No status resource: activation is idempotent, so the client simply sends the token again.
        return UserServiceResults.Command(result, services.HttpContext, TypedResults.Ok, statusPath: null);
    }

    public static Task<Results<Accepted, ProblemHttpResult>> SendActivationEmail(
        AccountNameRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken) =>
        SendOneWayAsync(body, (userName, email) => new SendActivation(userName, email), services, cancellationToken);

    public static Task<Results<Accepted, ProblemHttpResult>> RequestPasswordReset(
        AccountNameRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken) =>
        SendOneWayAsync(body, (userName, email) => new RequestPasswordReset(userName, email), services, cancellationToken);

    public static async Task<Results<Ok, Accepted<CommandAccepted>, ProblemHttpResult>> ConfirmPasswordReset(
        PasswordResetConfirmRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        // A malformed token cannot be anyone's, and a password that breaks the rules is refused before
        // anything is sent on (the user service checks both again).
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        UserRules.Add(errors, "token", UserRules.CheckResetToken(body.Token));
        UserRules.Add(errors, "newPassword", UserRules.CheckPassword(body.NewPassword));
        if (errors.Count > 0)
        {
            return UserServiceResults.Invalid(errors, "Invalid password reset");
        }

        var result = await services.Requests.SendAsync(new ResetPassword(body.Token!, body.NewPassword!), cancellationToken: cancellationToken);

        // No status resource: a queued reset is checked and carried out when the user service runs again;
        // the person tries the new password, or asks for a new link.
        return UserServiceResults.Command(result, services.HttpContext, _ => TypedResults.Ok(), statusPath: null);
    }

    /// <summary>
    /// A request about an account named by its user name or e-mail address, sent one way: 202 whatever
    /// the account, before the user service has even seen it, so that neither the answer nor its time
    /// depends on the account. 400 for input that names no account; 503 when nothing could be queued.
    /// </summary>
    private static async Task<Results<Accepted, ProblemHttpResult>> SendOneWayAsync<TRequest>(
        AccountNameRequest body,
        Func<string?, string?, TRequest> request,
        GatewayServices services,
        CancellationToken cancellationToken)
        where TRequest : IRequest<Empty>
    {
        // Checked before trimming: "carol\n" is not carol.
        if ((body.UserName ?? body.Email) is { } given && UserRules.HasControlCharacters(given))
        {
            return UserServiceResults.Invalid(new() { [body.UserName is null ? "email" : "userName"] = ["No control characters, please."] });
        }

        var userName = string.IsNullOrWhiteSpace(body.UserName) ? null : body.UserName.Trim();
        var email = string.IsNullOrWhiteSpace(body.Email) ? null : body.Email.Trim();
        if ((userName is null) == (email is null))
        {
            return UserServiceResults.Invalid(new() { [userName is null ? "userName" : "email"] = ["Give either the user name or the e-mail address of the account."] });
        }

        if (userName?.Length > UserRules.UserNameMaxLength || email?.Length > UserRules.EmailMaxLength)
        {
            return UserServiceResults.Invalid(userName is null
                ? new() { ["email"] = [$"At most {UserRules.EmailMaxLength} characters."] }
                : new() { ["userName"] = [$"At most {UserRules.UserNameMaxLength} characters."] });
        }

        var result = await services.Requests.SendAsync(request(userName, email), new RequestOptions { ExpectReply = false }, cancellationToken);
        return result.Outcome == RequestOutcome.Sent
            ? TypedResults.Accepted((string?)null)
            : UserServiceResults.Unavailable(services.HttpContext);
    }

    public static async Task<Results<Ok<TokenPair>, ProblemHttpResult>> Login(
        LoginRequest body,
        [FromHeader(Name = DeviceTokens.Header)] string? deviceToken,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(body.UserName) || string.IsNullOrEmpty(body.Password))
        {
            return UserServiceResults.Invalid(new() { [string.IsNullOrEmpty(body.UserName) ? "userName" : "password"] = ["The user name and the password are required."] });
        }

        // Longer than any account's name or password, or a name with a control character: it cannot
        // sign in, and it is not sent on.
        if (body.UserName.Length > UserRules.UserNameMaxLength || body.Password.Length > UserRules.PasswordMaxLength
            || UserRules.HasControlCharacters(body.UserName))
        {
            return SignInFailed();
        }

        var attempt = await services.SignIns.StartAsync(body.UserName, deviceToken, cancellationToken);
        if (attempt.Wait is { } wait)
        {
            return RateLimiting.TooManyRequests(services.HttpContext, wait);
        }

        // One answer for an unknown user and a wrong password; the user service spends the same
        // hashing time on both.
        var result = await services.Requests.SendAsync(new AuthenticateUser(body.UserName, body.Password), cancellationToken: cancellationToken);
        if (result is { Outcome: RequestOutcome.Replied, Reply.IsOk: true })
        {
            await services.SignIns.SucceededAsync(attempt, cancellationToken);

            // This client has now proved it knows the password: its next attempts count apart from everyone else's.
            var session = result.Reply.Value!;
            services.HttpContext.Response.Headers[DeviceTokens.Header] = services.Devices.Issue(body.UserName, session.User.Id, session.Security.StampHash);
        }
        else if (result.Outcome != RequestOutcome.Replied)
        {
            await services.SignIns.UnansweredAsync(attempt, cancellationToken);
        }

        return SessionResult(result, services);
    }

    public static async Task<Results<Ok<TokenPair>, ProblemHttpResult>> Refresh(
        RefreshRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(body.RefreshToken))
        {
            return UserServiceResults.Invalid(new() { ["refreshToken"] = ["The refresh token is required."] });
        }

        if (body.RefreshToken.Length > MaxRefreshTokenLength)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Invalid refresh token", detail: "The refresh token is unknown, expired, revoked or was already used.");
        }

        var result = await services.Requests.SendAsync(new RefreshSession(body.RefreshToken), cancellationToken: cancellationToken);
        return SessionResult(result, services);
    }

    public static async Task<Results<NoContent, Accepted<CommandAccepted>, ProblemHttpResult>> Logout(
        RefreshRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(body.RefreshToken))
        {
            return UserServiceResults.Invalid(new() { ["refreshToken"] = ["The refresh token is required."] });
        }

        // No session has such a token: signed out already.
        if (body.RefreshToken.Length > MaxRefreshTokenLength)
        {
            return TypedResults.NoContent();
        }

        var result = await services.Requests.SendAsync(new RevokeSession(services.HttpContext.User.ToActor(), body.RefreshToken), cancellationToken: cancellationToken);
        return UserServiceResults.Command(result, services.HttpContext, _ => TypedResults.NoContent());
    }

    private static Results<Ok<TokenPair>, ProblemHttpResult> SessionResult(RequestResult<UserSession> result, GatewayServices services) =>
        UserServiceResults.Query(result, services.HttpContext, session =>
        {
            // The user service just said what this account may do: no need to ask again for a while.
            services.Security.Apply(session.Security);
            var (accessToken, expiresIn) = services.Tokens.Issue(session);
            return TypedResults.Ok(new TokenPair(accessToken, "Bearer", expiresIn, session.RefreshToken));
        });

    private static ProblemHttpResult SignInFailed() =>
        TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Sign-in failed", detail: "The user name or password is wrong.");

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{16,128}\z", RegexOptions.CultureInvariant)]
    internal static partial Regex IdempotencyKeyPattern();
}
