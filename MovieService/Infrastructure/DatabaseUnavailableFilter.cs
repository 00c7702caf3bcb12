using MySqlConnector;
using Microsoft.EntityFrameworkCore.Storage;

namespace MovieService.Infrastructure;

/// <summary>
/// Turns "the database cannot be reached" (after the execution strategy's retries) into 503 with
/// <c>Retry-After</c> and problem details, instead of a 500: the request can simply be repeated, and
/// nothing was written (each change is one transaction). An endpoint filter rather than an exception
/// handler, so that it behaves the same in Development, where the developer exception page would
/// otherwise answer first.
/// </summary>
internal sealed partial class DatabaseUnavailableFilter(ILogger<DatabaseUnavailableFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (Exception ex) when (IsDatabaseUnavailable(ex))
        {
            LogUnavailable(ex.GetBaseException().Message);
            context.HttpContext.Response.Headers.RetryAfter = "5";
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Database unavailable",
                detail: "The movie database cannot be reached right now. Nothing was changed; try again shortly.");
        }
    }

    internal static bool IsDatabaseUnavailable(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case RetryLimitExceededException:
                case MySqlException { IsTransient: true }:
                case MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost }:
                case MySqlException { Number: 1927 or 2006 or 2013 }: // connection killed, server gone away, lost connection
                case System.Net.Sockets.SocketException:
                    return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The movie database is unavailable: {Error}")]
    private partial void LogUnavailable(string error);
}
