using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MovieService.Infrastructure;

/// <summary>
/// Applies pending migrations at start-up, inside the retrying execution strategy, and keeps trying
/// until the database answers. Readiness (<c>/health</c>) reports unhealthy until it has finished.
/// Several replicas may start at once: EF Core 9 takes a database lock around migrations
/// (Pomelo: <c>GET_LOCK</c>), so exactly one applies them and the others find them applied.
/// </summary>
internal sealed partial class DatabaseMigrator(IServiceScopeFactory scopes, ILogger<DatabaseMigrator> logger) : BackgroundService, IHealthCheck
{
    private volatile bool _migrated;
    private volatile string? _lastError;

    public bool IsMigrated => _migrated;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var context = scope.ServiceProvider.GetRequiredService<MovieDbContext>();
                var strategy = context.Database.CreateExecutionStrategy();
                await strategy.ExecuteAsync(async ct =>
                {
                    var pending = (await context.Database.GetPendingMigrationsAsync(ct)).ToList();
                    await context.Database.MigrateAsync(ct);
                    if (pending.Count > 0)
                    {
                        LogMigrated(pending.Count, string.Join(", ", pending));
                    }
                }, stoppingToken);

                _migrated = true;
                _lastError = null;
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                _lastError = ex.Message;
                logger.LogWarning(ex, "Migrating the movie database failed (attempt {Attempt}); retrying", attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(10, attempt)), stoppingToken);
            }
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_migrated
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, _lastError is null ? "Migrations have not been applied yet." : $"Migrations have not been applied: {_lastError}"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} migration(s) to the movie database: {Migrations}")]
    private partial void LogMigrated(int count, string migrations);
}
