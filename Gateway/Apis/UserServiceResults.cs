using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace Gateway.Apis;

/// <summary>
/// How answers from the user service become HTTP, for every handler: its value becomes the handler's
/// success result, its errors the matching 4xx; no broker → 503; no reply in time → 504 for a query and
/// 202 for a command (it is queued and will be processed). Errors are problem details (with a <c>traceId</c>).
/// </summary>
internal static class UserServiceResults
{
    /// <summary>Where a command answered with 202 can be followed, unless it has its own status resource.</summary>
    public const string CommandStatusPath = "/api/commands/";

    /// <summary>A query's answer: <paramref name="ok"/> of its value, its error, or 503/504 when none came.</summary>
    public static Results<TOk, ProblemHttpResult> Query<T, TOk>(RequestResult<T> result, HttpContext httpContext, Func<T, TOk> ok)
        where TOk : IResult
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(ok);
        if (result.Outcome != RequestOutcome.Replied)
        {
            return NoReply(result, httpContext);
        }

        return result.Reply!.IsOk ? ok(result.Reply.Value!) : Problem(result.Reply);
    }

    /// <summary>
    /// A command's answer: <paramref name="ok"/> of its value, its error, 202 when the broker has it but
    /// no answer came in time (<c>Location</c>: <paramref name="statusPath"/> and the request id; none when
    /// null), or 503 when nothing was queued.
    /// </summary>
    public static Results<TOk, Accepted<Model.CommandAccepted>, ProblemHttpResult> Command<T, TOk>(
        RequestResult<T> result,
        HttpContext httpContext,
        Func<T, TOk> ok,
        string? statusPath = CommandStatusPath)
        where TOk : IResult
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(ok);
        return result.Outcome switch
        {
            RequestOutcome.Replied when result.Reply!.IsOk => ok(result.Reply.Value!),
            RequestOutcome.Replied => Problem(result.Reply!),
            RequestOutcome.TimedOut => Accepted(result, statusPath),
            _ => Unavailable(httpContext),
        };
    }

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
    private static ProblemHttpResult Problem<T>(Reply<T> reply)
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

    private static ProblemHttpResult TimedOut() =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status504GatewayTimeout,
            title: "User service timed out",
            detail: "The user service did not answer in time.");

    /// <summary>For queries: every outcome but a reply is a failure (503 or 504).</summary>
    private static ProblemHttpResult NoReply<T>(RequestResult<T> result, HttpContext httpContext) =>
        result.Outcome == RequestOutcome.TimedOut ? TimedOut() : Unavailable(httpContext);

    /// <summary>
    /// For commands: a confirmed command without a reply will still be processed (202), and
    /// <c>Location</c> names the status resource that will tell how it ended.
    /// </summary>
    private static Accepted<Model.CommandAccepted> Accepted<T>(RequestResult<T> result, string? statusPath) =>
        TypedResults.Accepted(
            statusPath is null ? null : statusPath + Uri.EscapeDataString(result.RequestId),
            new Model.CommandAccepted(result.RequestId, CommandStatus.Pending));

    /// <summary>How a command ended, for the status resources.</summary>
    public static Model.CommandStatusResponse ToResponse(CommandStatus status) =>
        new(status.Status, status.User, status.Problem is { } error
            ? new Model.CommandProblem(StatusCode(status.FailureStatus ?? ReplyStatus.Failed), error.Title, error.Detail, error.Errors)
            : null);
}
