using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using MySqlConnector;

namespace MovieService.Infrastructure;

/// <summary>
/// Turns "the database cannot be reached" (after the execution strategy's retries) into 503 with
/// <c>Retry-After</c> and problem details, instead of a 500: the request can simply be repeated, and
/// nothing was written (each change is one transaction) — except when the connection broke while a
/// change was being saved: then whether it was committed is unknown, and the answer says so. An exception handler, so that it covers
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
        var result = IsConnectionLost(exception) && WhileSaving(exception)
            ? ProblemResults.Unavailable(httpContext, ChangeNotConfirmedTitle, "The connection to the movie database broke while the change was being saved, so it was not confirmed. Look at the movie, or your list for a new one, before you repeat it.")
            : ProblemResults.Unavailable(httpContext, "Database unavailable", "The movie database cannot be reached right now. Nothing was changed; try again shortly.");
        await result.ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>The title of the 503 for a save whose outcome is unknown (the web app explains it apart).</summary>
    public const string ChangeNotConfirmedTitle = "Change not confirmed";

    /// <summary>
    /// The connection broke under a running command (a crash of the server or a network failure: the
    /// stream ends or resets, or the client library reports the server gone), so the server may or may
    /// not have run it.
    /// </summary>
    internal static bool IsConnectionLost(Exception? exception) =>
        Chain(exception).Any(e => e is MySqlEndOfStreamException or MySqlException { Number: 2006 or 2013 })
        // IO and socket errors count only below MySqlConnector's own exception: Kestrel's bad requests are IOExceptions too.
        || Chain(exception).SkipWhile(e => e is not MySqlException).Any(e => e is IOException or System.Net.Sockets.SocketException);

    internal static bool IsDatabaseUnavailable(Exception? exception) =>
        Chain(exception).Any(e => e is RetryLimitExceededException
            or MySqlException { IsTransient: true }
            or MySqlException { ErrorCode: MySqlErrorCode.UnableToConnectToHost }
            or MySqlException { Number: 1927 or 2006 or 2013 } // connection killed, server gone away, lost connection
            or System.Net.Sockets.SocketException)
        || IsConnectionLost(exception);

    /// <summary>The failure came from SaveChanges (EF Core wraps it in a <see cref="DbUpdateException"/>), not from a read.</summary>
    private static bool WhileSaving(Exception exception) => Chain(exception).Any(e => e is DbUpdateException);

    /// <summary>The exception and the ones inside it, outermost first.</summary>
    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The movie database is unavailable: {Error}")]
    private partial void LogUnavailable(string error);
}
