using Gateway.Auth;
using Gateway.Limits;
using Gateway.Model;
using Gateway.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;
using UserService.Contracts;

namespace Gateway.Apis;

/// <summary>
/// What became of a command answered with 202 (an update, a deletion, a sign-out): the
/// <c>Location</c> of every such answer. Only the account that sent it may read it; registrations
/// have their own, anonymous, status resource (<c>/api/auth/registrations/{id}</c>).
/// </summary>
public static class CommandsApi
{
    public static IEndpointRouteBuilder MapCommandsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/commands/{requestId}", GetCommandStatus)
            .WithTags("Users")
            .WithName("GetCommandStatus")
            .WithSummary("The outcome of your command answered with 202: pending, succeeded or failed")
            .ProducesProblems(400, 503, 504)
            .RequireAuthorization()
            .RequireRateLimiting(RateLimiting.ApiPolicy);
        return app;
    }

    public static async Task<Results<Ok<CommandStatusResponse>, ProblemHttpResult>> GetCommandStatus(
        string requestId,
        [AsParameters] GatewayServices services,
        CancellationToken cancellationToken)
    {
        if (!AuthApi.IdempotencyKeyPattern().IsMatch(requestId))
        {
            return UserServiceResults.Invalid(new() { ["requestId"] = ["Not a request id."] });
        }

        var result = await services.Requests.SendAsync(new GetCommandStatus(services.HttpContext.User.ToActor(), requestId), cancellationToken: cancellationToken);
        return UserServiceResults.Query(result, services.HttpContext, status => TypedResults.Ok(UserServiceResults.ToResponse(status)));
    }
}
