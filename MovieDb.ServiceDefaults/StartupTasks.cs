using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace MovieDb.ServiceDefaults;

/// <summary>Work a service must have finished before it is ready: applying migrations, creating indexes.</summary>
public interface IStartupTask
{
    /// <summary>Does the work, all of it or none in effect (it is run again after a failure); throws when it failed.</summary>
    Task RunAsync(CancellationToken cancellationToken);
}

/// <summary>
/// "Do this at start-up, report readiness, retry with back-off" — like the familiar migrate-at-start-up
/// helper, except that a failure neither stops the host nor is given up on.
/// </summary>
public static class StartupTaskExtensions
{
    /// <summary>The trace source of start-up tasks: a span per attempt.</summary>
    public const string ActivitySourceName = "MovieDb.StartupTasks";

    /// <summary>
    /// Runs <typeparamref name="TTask"/> in the background once the host has started, resolved from a
    /// new DI scope for every attempt, and tries again with exponential back-off (from 1 s up to
    /// <paramref name="maxRetryDelay"/>, with jitter) until it succeeds. The readiness check
    /// <paramref name="name"/> is unhealthy, with the last error, until then; liveness is not affected,
    /// and the service answers meanwhile.
    /// </summary>
    public static IHostApplicationBuilder AddStartupTask<TTask>(this IHostApplicationBuilder builder, string name, TimeSpan maxRetryDelay)
        where TTask : class, IStartupTask
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddScoped<TTask>();
        builder.Services.AddSingleton(sp => new StartupTaskRunner<TTask>(
            name,
            maxRetryDelay,
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetRequiredService<ILogger<StartupTaskRunner<TTask>>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<StartupTaskRunner<TTask>>());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(name, sp => sp.GetRequiredService<StartupTaskRunner<TTask>>(), failureStatus: null, tags: null));
        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource(ActivitySourceName));
        return builder;
    }
}

/// <summary>Runs one <see cref="IStartupTask"/> until it succeeds and reports whether it has.</summary>
internal sealed partial class StartupTaskRunner<TTask> : BackgroundService, IHealthCheck
    where TTask : class, IStartupTask
{
    private static readonly ActivitySource ActivitySource = new(StartupTaskExtensions.ActivitySourceName);

    private readonly string _name;
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;
    private volatile bool _done;
    private volatile string? _lastError;

    public StartupTaskRunner(string name, TimeSpan maxRetryDelay, IServiceScopeFactory scopes, TimeProvider time, ILogger<StartupTaskRunner<TTask>> logger)
    {
        _name = name;
        _scopes = scopes;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && !(ex is OperationCanceledException && args.Context.CancellationToken.IsCancellationRequested)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromSeconds(1),
                MaxDelay = maxRetryDelay,
                UseJitter = true,
                OnRetry = args =>
                {
                    _lastError = args.Outcome.Exception?.Message;
                    LogFailed(args.Outcome.Exception, _name, args.AttemptNumber + 1, args.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _retry.ExecuteAsync(RunOnceAsync, stoppingToken);
            _done = true;
            _lastError = null;
            LogDone(_name);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before it finished: the next start runs it again.
        }
    }

    private async ValueTask RunOnceAsync(CancellationToken cancellationToken)
    {
        using var activity = ActivitySource.StartActivity($"startup {_name}");
        try
        {
            await using var scope = _scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<TTask>().RunAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            activity?.AddException(ex);
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_done
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, _lastError is null ? $"{_name} has not finished yet." : $"{_name} has not finished: {_lastError}"));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Start-up task {Task} failed (attempt {Attempt}); trying again in {DelaySeconds:0.0} s")]
    private partial void LogFailed(Exception? exception, string task, int attempt, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Start-up task {Task} finished")]
    private partial void LogDone(string task);
}
