using Microsoft.AspNetCore.Http.Metadata;

namespace Gateway.Extensions;

/// <summary>
/// Every gateway route states how large a body it takes (<see cref="IRequestSizeLimitMetadata"/>: a
/// few KB for accounts and sign-in). Kestrel enforces it while the body streams; a body that
/// announces itself larger is refused here, before anything reads it, with 413 problem details.
/// </summary>
internal static class RequestBodyLimits
{
    /// <summary>Bodies of sign-in, registration, session and account requests: far above any valid one.</summary>
    public const long SmallJson = 4 * 1024;

    public static async Task RejectOversizedBodiesAsync(HttpContext context, Func<Task> next)
    {
        var limit = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize;
        if (limit is { } max && context.Request.ContentLength > max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = StatusCodes.Status413PayloadTooLarge, Title = "Request body too large", Detail = $"At most {max} bytes." },
            });
            return;
        }

        await next();
    }

    /// <summary>Limits the bodies of the group's endpoints to <paramref name="bytes"/>.</summary>
    public static TBuilder WithBodyLimit<TBuilder>(this TBuilder builder, long bytes) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(bytes));
}
