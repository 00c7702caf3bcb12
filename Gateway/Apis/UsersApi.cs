using Gateway.Auth;
using Gateway.Model;
using Microsoft.AspNetCore.Http.HttpResults;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;

namespace Gateway.Apis;

/// <summary>Accounts: your own, or anyone's for an admin. Each call is one request/reply to the user service.</summary>
public static class UsersApi
{
    public const string AdminPolicy = "admin";

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users")
            .WithTags("Users")
            .RequireAuthorization()
            .RequireRateLimiting(RateLimiting.ApiPolicy);

        api.MapGet("/me", GetMe).WithName("GetMe").WithSummary("Your own account");
        api.MapGet("/", ListUsers).WithName("ListUsers").WithSummary("All accounts, oldest first (admins)").RequireAuthorization(AdminPolicy);
        api.MapGet("/{id}", GetUser).WithName("GetUser").WithSummary("One account (admins, or yourself)");
        api.MapPut("/{id}", UpdateUser).WithName("UpdateUser").WithSummary("Change e-mail, password (yours needs the current one) or roles (admins)");
        api.MapDelete("/{id}", DeleteUser).WithName("DeleteUser").WithSummary("Delete an account and its movies (admins; not the bootstrap admin)").RequireAuthorization(AdminPolicy);

        return app;
    }

    public static Task<Results<Ok<UserDto>, ProblemHttpResult>> GetMe([AsParameters] GatewayServices services, CancellationToken cancellationToken) =>
        Get(services.HttpContext.User.UserId(), services, cancellationToken);

    public static async Task<Results<Ok<UserDto>, ProblemHttpResult>> GetUser(string id, [AsParameters] GatewayServices services, CancellationToken cancellationToken)
    {
        var caller = services.HttpContext.User;
        if (!caller.IsAdmin() && caller.UserId() != id)
        {
            return Forbidden();
        }

        return await Get(id, services, cancellationToken);
    }

    public static async Task<Results<Ok<UserPage>, ProblemHttpResult>> ListUsers(
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken,
        int page = 1,
        int pageSize = 20)
    {
        var result = await services.Requests.SendAsync(new ListUsers(page, pageSize), cancellationToken: cancellationToken);
        if (result.Outcome != RequestOutcome.Replied)
        {
            return UserServiceResults.NoReply(result, services.HttpContext);
        }

        return result.Reply!.IsOk ? TypedResults.Ok(result.Reply.Value) : UserServiceResults.Problem(result.Reply);
    }

    public static async Task<Results<Ok<UserDto>, Accepted<CommandAccepted>, ProblemHttpResult>> UpdateUser(
        string id,
        UpdateUserRequest body,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        var caller = services.HttpContext.User;
        if (!caller.IsAdmin() && caller.UserId() != id)
        {
            return Forbidden();
        }

        var result = await services.Requests.SendAsync(
            new UpdateUser(caller.ToActor(), id, body.Email, body.Password, body.CurrentPassword, body.Roles),
            cancellationToken: cancellationToken);
        return result.Outcome switch
        {
            RequestOutcome.Replied when result.Reply!.IsOk => TypedResults.Ok(result.Reply.Value),
            RequestOutcome.Replied => UserServiceResults.Problem(result.Reply!),
            RequestOutcome.TimedOut => UserServiceResults.Accepted(result),
            _ => UserServiceResults.Unavailable(services.HttpContext),
        };
    }

    public static async Task<Results<NoContent, Accepted<CommandAccepted>, ProblemHttpResult>> DeleteUser(
        string id,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        var result = await services.Requests.SendAsync(new DeleteUser(services.HttpContext.User.ToActor(), id), cancellationToken: cancellationToken);
        switch (result.Outcome)
        {
            case RequestOutcome.Replied when result.Reply!.IsOk:
                // This instance stops honouring the user's tokens at once; the others learn it from the user.deleted broadcast.
                services.DeletedUsers.Add(id);
                return TypedResults.NoContent();
            case RequestOutcome.Replied:
                return UserServiceResults.Problem(result.Reply!);
            case RequestOutcome.TimedOut:
                return UserServiceResults.Accepted(result);
            default:
                return UserServiceResults.Unavailable(services.HttpContext);
        }
    }

    private static async Task<Results<Ok<UserDto>, ProblemHttpResult>> Get(string id, GatewayServices services, CancellationToken cancellationToken)
    {
        var result = await services.Requests.SendAsync(new GetUser(id), cancellationToken: cancellationToken);
        if (result.Outcome != RequestOutcome.Replied)
        {
            return UserServiceResults.NoReply(result, services.HttpContext);
        }

        return result.Reply!.IsOk ? TypedResults.Ok(result.Reply.Value) : UserServiceResults.Problem(result.Reply);
    }

    private static ProblemHttpResult Forbidden() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "Only an admin may act on another account.");
}
