using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace MovieDb.ServiceDefaults;

/// <summary>
/// Minimal APIs reject unreadable requests (malformed JSON, a value of the wrong type, a query value
/// that does not parse, a body over the size limit) with <see cref="BadHttpRequestException"/>. This
/// turns it into problem details with the right status (400, 413, 415…) and a detail a client can act
/// on, instead of an empty 400.
/// </summary>
internal sealed class BadRequestExceptionHandler(IProblemDetailsService problemDetails) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException bad || httpContext.Response.HasStarted)
        {
            return false;
        }

        var detail = bad.InnerException switch
        {
            JsonException { Path: { Length: > 0 } path } => $"The request body is not valid JSON, or the value at '{path}' has the wrong type.",
            JsonException => "The request body is not valid JSON.",
            _ when bad.StatusCode == StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
            _ => bad.Message,
        };

        httpContext.Response.StatusCode = bad.StatusCode;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = bad.StatusCode, Detail = detail },
        });
    }
}
