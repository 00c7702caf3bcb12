using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// Keeps the log messages of one category (Debug and up) of a service in the test process, so that a
/// test can wait for a decision the service makes silently — "no mail sent", which no mailbox can show.
/// </summary>
public sealed class LogRecorder(string category) : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyList<string> Messages => [.. _messages];

    /// <summary>Adds the recorder to a service, past the test host's Warning floor for its category.</summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddSingleton<ILoggerProvider>(this);
        services.Configure<LoggerFilterOptions>(options => options.Rules.Add(new LoggerFilterRule(typeof(LogRecorder).FullName, category, LogLevel.Debug, filter: null)));
    }

    /// <summary>Waits until more than <paramref name="before"/> messages start with <paramref name="prefix"/>.</summary>
    public Task WaitForAsync(string prefix, int before, string what) =>
        Wait.UntilAsync(() => Count(prefix) > before, what);

    public int Count(string prefix) => _messages.Count(m => m.StartsWith(prefix, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => categoryName == category ? new Recording(_messages) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Recording(ConcurrentQueue<string> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue(formatter(state, exception));
    }
}
