using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace MovieService.Infrastructure;

/// <summary>
/// Turns "the database cannot be reached" (after the execution strategy's retries) into 503 with
/// <c>Retry-After</c> and problem details, instead of a 500: the request can simply be repeated, and
/// nothing was written (each change is one transaction). An exception handler, so that it covers
/// every place the database is first touched — including creating the DbContext while the request
/// is bound, when the server version must still be read from the server.
/// </summary>
internal sealed partial class DatabaseUnavailableHandler(ILogger<DatabaseUnavailableHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsDatabaseUnavailable(exception) || httpContext.Response.HasStarted)
        {
            return false;
        }

        LogUnavailable(exception.GetBaseException().Message);
        var detail = IsConnectionLost(exception) && !HttpMethods.IsGet(httpContext.Request.Method) && !HttpMethods.IsHead(httpContext.Request.Method)
            ? "The connection to the movie database broke while the change was being made, so it was not confirmed. GET the movie to see whether it was made before you repeat it."
            : "The movie database cannot be reached right now. Nothing was changed; try again shortly.";
        await ProblemResults.Unavailable(httpContext, "Database unavailable", detail).ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>
    /// The connection broke under a running command (a crash of the server or a network failure: the
    /// stream ends or resets, no error comes from the server), so the server may or may not have run it.
    /// </summary>
    internal static bool IsConnectionLost(Exception? exception)
    {
        var fromMySqlConnector = false;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            // An IOException only counts below MySqlConnector's own exception: Kestrel's bad requests are IOExceptions too.
            fromMySqlConnector |= current is MySqlException;
            if (current is MySqlEndOfStreamException || (fromMySqlConnector && current is IOException))
            {
                return true;
            }
        }

        return false;
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

        return IsConnectionLost(exception);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The movie database is unavailable: {Error}")]
    private partial void LogUnavailable(string error);
}
