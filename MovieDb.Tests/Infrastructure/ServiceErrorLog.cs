using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// Appends the errors of the services the tests host in their own process (Error and up, with the
/// exception and the W3C trace id) to the file <c>MOVIEDB_TEST_SERVICE_ERRORS</c> names, when it is set.
/// A test that fails on a page that shows only a trace id ("Something went wrong … Reference for
/// support") leaves the cause here; <c>scripts/test.sh</c> prints the entries of the trace ids that
/// failed tests' messages name.
/// </summary>
public sealed class ServiceErrorLog : ILoggerProvider
{
    public const string Variable = "MOVIEDB_TEST_SERVICE_ERRORS";

    private static readonly Lock Gate = new();

    private readonly string _path;
    private readonly string _service;

    private ServiceErrorLog(string path, string service)
    {
        _path = path;
        _service = service;
    }

    /// <summary>The log for <paramref name="service"/>, or null when no file is named.</summary>
    public static ServiceErrorLog? ForService(string service) =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } path ? new ServiceErrorLog(path, service) : null;

    public ILogger CreateLogger(string categoryName) => new Writer(this, categoryName);

    public void Dispose()
    {
    }

    private void Append(LogLevel level, string category, string message, Exception? exception)
    {
        var entry = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:O} {level} {_service} {category} trace={Activity.Current?.TraceId.ToString() ?? "-"}")
            .AppendLine()
            .Append("  ").AppendLine(message);
        if (exception is not null)
        {
            entry.Append("  ").AppendLine(exception.ToString().Replace("\n", "\n  ", StringComparison.Ordinal));
        }

        try
        {
            lock (Gate)
            {
                File.AppendAllText(_path, entry.ToString());
            }
        }
        catch (IOException)
        {
            // A diagnostic aid only: a test never fails because its log could not be written.
        }
    }

    private sealed class Writer(ServiceErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log.Append(logLevel, category, formatter(state, exception), exception);
            }
        }
    }
}
