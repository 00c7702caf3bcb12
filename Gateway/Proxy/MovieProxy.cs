using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Gateway.Proxy;

/// <summary>The gateway side of the movie routes: what the movie service may see, and what the client sees back.</summary>
internal static class MovieProxy
{
    public const string ClusterId = "movieservice";

    /// <summary>
    /// For routes to the movie service: drop the client's credentials and any identity headers it
    /// sent, then vouch for the caller with a token of <see cref="IdentityTokens"/>: its id, name and
    /// current roles, signed with a key only the gateway and the movie service hold. A request that
    /// reaches the movie service any other way has no identity it can prove.
    /// </summary>
    public static void Configure(TransformBuilderContext context)
    {
        if (context.Cluster?.ClusterId != ClusterId)
        {
            return;
        }

        context.AddRequestTransform(transform =>
        {
            foreach (var header in transform.HttpContext.Request.Headers.Keys)
            {
                if (header.StartsWith("X-User-", StringComparison.OrdinalIgnoreCase))
                {
                    RequestTransform.RemoveHeader(transform, header);
                }
            }

            RequestTransform.RemoveHeader(transform, "Authorization");
            RequestTransform.RemoveHeader(transform, "Cookie");

            var user = transform.HttpContext.User;
            if (user.Identity?.IsAuthenticated == true)
            {
                var identity = transform.HttpContext.RequestServices.GetRequiredService<IdentityTokens>().For(user);
                RequestTransform.AddHeader(transform, "Authorization", "Bearer " + identity);
            }

            return ValueTask.CompletedTask;
        });

        // The movie service names its resources /movies/{id}; clients know them as /api/movies/{id}.
        context.AddResponseTransform(transform =>
        {
            var location = transform.HttpContext.Response.Headers.Location.ToString();
            if (location.StartsWith("/movies", StringComparison.Ordinal))
            {
                transform.HttpContext.Response.Headers.Location = "/api" + location;
            }

            return ValueTask.CompletedTask;
        });
    }

    /// <summary>
    /// A body that announces itself larger than the route allows is refused here, before anything
    /// is forwarded: the client gets a clear 413 instead of a race with the movie service's own limit.
    /// (Bodies without a length are cut off by the same limit while they stream.)
    /// </summary>
    public static async Task RejectOversizedBodies(HttpContext context, Func<Task> next)
    {
        var limit = context.GetReverseProxyFeature().Route.Config.MaxRequestBodySize;
        if (limit is > 0 && context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = StatusCodes.Status413PayloadTooLarge, Title = "Request body too large", Detail = $"At most {limit} bytes." },
            });
            return;
        }

        await next();
    }

    /// <summary>
    /// YARP answers an unreachable destination with an empty 502; clients get problem details
    /// instead: 503 (try again later) when the movie service cannot be reached, 504 when it is too slow.
    /// </summary>
    public static async Task ProblemsForForwarderErrors(HttpContext context, Func<Task> next)
    {
        await next();

        var error = context.GetForwarderErrorFeature();
        if (error is null || context.Response.HasStarted || error.Error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
        {
            return;
        }

        // The client's body broke a limit (the route's MaxRequestBodySize) while it was streamed.
        var badRequest = Inner<BadHttpRequestException>(error.Exception);
        var (status, title, detail) = error switch
        {
            _ when badRequest is not null => (badRequest.StatusCode, "Bad request", badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : badRequest.Message),
            { Error: ForwarderError.RequestBodyClient } => (StatusCodes.Status400BadRequest, "Bad request", "The request body could not be read."),
            { Error: ForwarderError.RequestTimedOut } => (StatusCodes.Status504GatewayTimeout, "Movie service timed out", "The movie service did not answer in time."),
            _ => (StatusCodes.Status503ServiceUnavailable, "Movie service unavailable", "The movie service could not be reached. Try again shortly."),
        };

        var problem = status == StatusCodes.Status503ServiceUnavailable
            ? ProblemResults.Unavailable(context, title, detail)
            : TypedResults.Problem(statusCode: status, title: title, detail: detail);
        await problem.ExecuteAsync(context);
    }

    private static T? Inner<T>(Exception? exception) where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }
}
