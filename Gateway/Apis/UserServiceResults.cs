using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace Gateway.Apis;

/// <summary>
/// How answers from the user service become HTTP: its errors become the matching 4xx; no broker →
/// 503; no reply in time → 504 for queries. Always problem details (with a <c>traceId</c>).
/// </summary>
internal static class UserServiceResults
{
    public static int StatusCode(ReplyStatus status) => status switch
    {
        ReplyStatus.Invalid => StatusCodes.Status400BadRequest,
        ReplyStatus.Unauthorized => StatusCodes.Status401Unauthorized,
        ReplyStatus.Forbidden => StatusCodes.Status403Forbidden,
        ReplyStatus.NotFound => StatusCodes.Status404NotFound,
        ReplyStatus.Conflict => StatusCodes.Status409Conflict,
        ReplyStatus.Failed => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status500InternalServerError,
    };

    /// <summary>A failed reply as problem details, with per-field errors when there are any.</summary>
    public static ProblemHttpResult Problem<T>(Reply<T> reply)
    {
        var status = StatusCode(reply.Status);
        var error = reply.Error ?? new ReplyError("The user service refused the request.");
        ProblemDetails problem = error.Errors is { Count: > 0 } errors
            ? new HttpValidationProblemDetails(errors.ToDictionary(e => e.Key, e => e.Value))
            : new ProblemDetails();
        problem.Status = status;
        problem.Title = error.Title;
        problem.Detail = error.Detail;
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Invalid(Dictionary<string, string[]> errors, string title = "Invalid request") =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors) { Status = StatusCodes.Status400BadRequest, Title = title });

    /// <summary>Nothing was sent (or the broker did not confirm it): safe to retry.</summary>
    public static ProblemHttpResult Unavailable(HttpContext httpContext) =>
        ProblemResults.Unavailable(httpContext, "User service unavailable", "The message broker cannot be reached right now; nothing was changed. Try again shortly.");

    public static ProblemHttpResult TimedOut() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status504GatewayTimeout,
            title: "User service timed out",
            detail: "The user service did not answer in time.");

    /// <summary>For queries: every outcome but a reply is a failure (503 or 504).</summary>
    public static ProblemHttpResult NoReply<T>(RequestResult<T> result, HttpContext httpContext) =>
        result.Outcome == RequestOutcome.TimedOut ? TimedOut() : Unavailable(httpContext);

    /// <summary>
    /// For commands: a confirmed command without a reply will still be processed (202), and
    /// <c>Location</c> names the status resource that will tell how it ended.
    /// </summary>
    public static Accepted<Model.CommandAccepted> Accepted<T>(RequestResult<T> result, string statusPath = "/api/commands/") =>
        TypedResults.Accepted(statusPath + Uri.EscapeDataString(result.RequestId), new Model.CommandAccepted(result.RequestId, CommandStatus.Pending));

    /// <summary>How a command ended, for the status resources.</summary>
    public static Model.CommandStatusResponse ToResponse(CommandStatus status) =>
        new(status.Status, status.User, status.Problem is { } error
            ? new Model.CommandProblem(StatusCode(status.FailureStatus ?? ReplyStatus.Failed), error.Title, error.Detail, error.Errors)
            : null);
}
