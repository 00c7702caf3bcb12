using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MovieDb.ServiceDefaults;

/// <summary>
/// Problem details that tell the client when to try again: 503 while a dependency is away, 429 for a
/// rate limit. Returned by a handler, or executed (<c>ExecuteAsync</c>) by middleware and exception
/// handlers; either way written by the problem details service, with the <c>traceId</c>.
/// </summary>
public static class ProblemResults
{
    /// <summary>How long a client waits before trying a 503 again.</summary>
    public static readonly TimeSpan UnavailableRetryAfter = TimeSpan.FromSeconds(5);

    /// <summary>503 with <c>Retry-After</c>: try again shortly; <paramref name="detail"/> says whether anything was done.</summary>
    public static ProblemHttpResult Unavailable(HttpContext httpContext, string title, string detail) =>
        RetryLater(httpContext, StatusCodes.Status503ServiceUnavailable, UnavailableRetryAfter, title, detail);

    /// <summary>
    /// <paramref name="statusCode"/> with a <c>Retry-After</c> header of <paramref name="retryAfter"/>
    /// in whole seconds, at least 1 (<see cref="RetryAfterSeconds"/>).
    /// </summary>
    public static ProblemHttpResult RetryLater(HttpContext httpContext, int statusCode, TimeSpan retryAfter, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        httpContext.Response.Headers.RetryAfter = RetryAfterSeconds(retryAfter).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: statusCode, title: title, detail: detail);
    }

    /// <summary>A wait in the whole seconds of a <c>Retry-After</c> header: rounded up, at least 1.</summary>
    public static int RetryAfterSeconds(TimeSpan retryAfter) => Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
}
