using Gateway.Auth;
using Gateway.Limits;
using Gateway.Model;
using Gateway.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MovieDb.Messaging.Client;
using UserService.Contracts;

namespace Gateway.Apis;

/// <summary>
/// Accounts: your own, or anyone's for an admin. Each call is one request/reply to the user service,
/// which decides on the caller's rights as they are now; the checks here only spare it the obvious.
/// </summary>
public static class UsersApi
{
    public const string AdminPolicy = "admin";

    // A role name longer than this is none of ours; more roles than this is not a request.
    private const int MaxRoles = 10;
    private const int MaxRoleLength = 32;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users")
            .WithTags("Users")
            .RequireAuthorization()
            .RequireRateLimiting(RateLimiting.ApiPolicy)
            .WithBodyLimit(RequestBodyLimits.SmallJson);

        api.MapGet("/me", GetMe).WithName("GetMe").WithSummary("Your own account")
            .ProducesProblems(404, 503, 504);
        api.MapGet("/", ListUsers).WithName("ListUsers").WithSummary("All accounts, oldest first (admins)").RequireAuthorization(AdminPolicy)
            .ProducesProblems(400, 403, 503, 504);
        api.MapGet("/{id:guid}", GetUser).WithName("GetUser").WithSummary("One account (admins, or yourself)")
            .ProducesProblems(403, 404, 503, 504);
        api.MapPut("/{id:guid}", UpdateUser).WithName("UpdateUser")
            .WithSummary("Change e-mail, password or roles")
            .WithDescription("Your own e-mail address and password change with your current password; a new address of your own takes effect when the link mailed to it is used (POST /api/auth/activate) and until then the answer shows the present one. Admins change roles, and the e-mail address and password of accounts that are not admins. The bootstrap admin keeps the admin role, and the last admin cannot be demoted. A change of roles or password ends every session of the account.")
            .ProducesProblems(400, 403, 404, 409, 503);
        api.MapDelete("/{id:guid}", DeleteUser).WithName("DeleteUser").WithSummary("Delete an account and its movies (admins; not the bootstrap admin)").RequireAuthorization(AdminPolicy)
            .ProducesProblems(403, 404, 409, 503);
        api.MapDelete("/{id:guid}/sessions", RevokeAllSessions).WithName("SignOutEverywhere")
            .WithSummary("Sign an account out everywhere: every session and access token ends (yourself, or an admin for an account that is not an admin)")
            .ProducesProblems(403, 404, 503);

        return app;
    }

    public static Task<Results<Ok<UserDto>, ProblemHttpResult>> GetMe([AsParameters] GatewayServices services, CancellationToken cancellationToken) =>
        Get(services.HttpContext.User.UserId(), services, cancellationToken);

    public static async Task<Results<Ok<UserDto>, ProblemHttpResult>> GetUser(Guid id, [AsParameters] GatewayServices services, CancellationToken cancellationToken)
    {
        var caller = services.HttpContext.User;
        if (!caller.IsAdmin() && caller.UserId() != id.ToString())
        {
            return Forbidden();
        }

        return await Get(id.ToString(), services, cancellationToken);
    }

    public static async Task<Results<Ok<UserPage>, ProblemHttpResult>> ListUsers(
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken,
        int page = 1,
        int pageSize = 20)
    {
        if (PagingRules.Check(page, pageSize) is { Count: > 0 } errors)
        {
            return UserServiceResults.Invalid(errors, "Invalid paging");
        }

        var result = await services.Requests.SendAsync(new ListUsers(services.HttpContext.User.ToActor(), page, pageSize), cancellationToken: cancellationToken);
        return UserServiceResults.Query(result, services.HttpContext, TypedResults.Ok);
    }

    public static async Task<Results<Ok<UserDto>, Accepted<CommandAccepted>, ProblemHttpResult>> UpdateUser(
        Guid id,
        UpdateUserRequest body,
        [FromHeader(Name = DeviceTokens.Header)] string? deviceToken,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        var caller = services.HttpContext.User;
        if (!caller.IsAdmin() && caller.UserId() != id.ToString())
        {
            return Forbidden();
        }

        if (Validate(body) is { Count: > 0 } errors)
        {
            return UserServiceResults.Invalid(errors, "Invalid update");
        }

        // A password to check or hash costs the user service tens of milliseconds: a user gets a few a minute.
        if (MakesPasswordWork(body)
            && await services.PasswordChanges.TryAcquireAsync(caller.UserId(), cancellationToken) is { } tooSoon)
        {
            return RateLimiting.TooManyRequests(services.HttpContext, tooSoon);
        }

        // A change that checks the caller's password is a guess as much as a sign-in is: the same throttle
        // counts it, so a stolen access token is no way around the sign-in's waits.
        // (The user service checks the current password only with a new e-mail address or password; a
        // "current password" sent with nothing to change tests nothing and must not clear the count.)
        SignInAttempt? attempt = null;
        if (ChecksCurrentPassword(body) && caller.UserId() == id.ToString())
        {
            attempt = await services.SignIns.StartAsync(caller.UserName(), deviceToken, cancellationToken);
            if (attempt.Wait is { } wait)
            {
                return RateLimiting.TooManyRequests(services.HttpContext, wait);
            }
        }

        var result = await services.Requests.SendAsync(
            new UpdateUser(caller.ToActor(), id.ToString(), body.Email, body.Password, body.CurrentPassword, body.Roles),
            cancellationToken: cancellationToken);
        if (attempt is not null)
        {
            await CountPasswordCheckAsync(attempt, result, services, cancellationToken);
        }

        return UserServiceResults.Command(result, services.HttpContext, TypedResults.Ok);
    }

    /// <summary>Whether the user service will check the current password: it does with a new e-mail address or a new password.</summary>
    private static bool ChecksCurrentPassword(UpdateUserRequest body) =>
        body.CurrentPassword is not null && (body.Email is not null || body.Password is not null);

    /// <summary>Whether the user service will hash a password or check one: a new password, or a new address confirmed with the current one.</summary>
    private static bool MakesPasswordWork(UpdateUserRequest body) =>
        body.Password is not null || (body.CurrentPassword is not null && body.Email is not null);

    /// <summary>
    /// A change made (the password was right) clears the count; a wrong password, or a change still
    /// queued, stays counted; any other answer, or nothing queued, gives this attempt back — it tested
    /// no password, and clearing the count for it would hand a guesser fresh attempts.
    /// </summary>
    private static async ValueTask CountPasswordCheckAsync(SignInAttempt attempt, RequestResult<UserDto> result, GatewayServices services, CancellationToken cancellationToken)
    {
        if (result is { Outcome: RequestOutcome.Replied, Reply.IsOk: true })
        {
            await services.SignIns.SucceededAsync(attempt, cancellationToken);
        }
        else if (result.Outcome != RequestOutcome.TimedOut && result.Reply?.Error?.Errors?.ContainsKey("currentPassword") != true)
        {
            await services.SignIns.UnansweredAsync(attempt, cancellationToken);
        }
    }

    public static async Task<Results<NoContent, Accepted<CommandAccepted>, ProblemHttpResult>> DeleteUser(
        Guid id,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        var result = await services.Requests.SendAsync(new DeleteUser(services.HttpContext.User.ToActor(), id.ToString()), cancellationToken: cancellationToken);
        if (result is { Outcome: RequestOutcome.Replied, Reply.IsOk: true })
        {
            // This instance refuses the account's tokens at once; the others learn it from the broadcast.
            services.Security.MarkDeleted(id.ToString());
        }

        return UserServiceResults.Command(result, services.HttpContext, _ => TypedResults.NoContent());
    }

    public static async Task<Results<NoContent, Accepted<CommandAccepted>, ProblemHttpResult>> RevokeAllSessions(
        Guid id,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        var result = await services.Requests.SendAsync(new RevokeAllSessions(services.HttpContext.User.ToActor(), id.ToString()), cancellationToken: cancellationToken);
        return UserServiceResults.Command(result, services.HttpContext, _ => TypedResults.NoContent());
    }

    /// <summary>Shape checks of an update, before anything is sent: the user service checks again, and the rules.</summary>
    private static Dictionary<string, string[]> Validate(UpdateUserRequest body)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body.Email is not null)
        {
            UserRules.Add(errors, "email", UserRules.CheckEmail(body.Email));
        }

        if (body.Password is not null)
        {
            UserRules.Add(errors, "password", UserRules.CheckPassword(body.Password));
        }

        if (body.CurrentPassword is { Length: > UserRules.PasswordMaxLength })
        {
            errors["currentPassword"] = [$"A password is at most {UserRules.PasswordMaxLength} characters."];
        }

        if (body.Roles is { Count: > MaxRoles } || body.Roles?.Any(role => role is null || role.Length > MaxRoleLength) == true)
        {
            errors["roles"] = [$"At most {MaxRoles} roles of at most {MaxRoleLength} characters."];
        }
        else if (body.Roles is not null)
        {
            UserRules.Add(errors, "roles", UserRules.CheckRoles(body.Roles));
        }

        return errors;
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> Get(string id, GatewayServices services, CancellationToken cancellationToken)
    {
        var result = await services.Requests.SendAsync(new GetUser(services.HttpContext.User.ToActor(), id), cancellationToken: cancellationToken);
        return UserServiceResults.Query(result, services.HttpContext, TypedResults.Ok);
    }

    private static ProblemHttpResult Forbidden() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "Only an admin may act on another account.");
}
