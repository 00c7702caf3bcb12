using Microsoft.EntityFrameworkCore;

namespace MovieService.Infrastructure;

/// <summary>
/// Applies pending migrations: a start-up task (<c>AddStartupTask</c>), so it is tried again until the
/// database answers and readiness (<c>/health</c>) waits for it. Several replicas may start at once:
/// EF Core 9 takes a database lock around migrations (Pomelo: <c>GET_LOCK</c>), so exactly one applies
/// them and the others find them applied.
/// </summary>
/// <remarks>
/// No execution strategy of its own: <c>MigrateAsync</c> already runs inside the context's retrying
/// strategy (EF Core 9), and when that gives up the start-up task's back-off takes over.
/// </remarks>
internal sealed partial class DatabaseMigrator(MovieDbContext context, ILogger<DatabaseMigrator> logger) : IStartupTask
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var pending = (await context.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await context.Database.MigrateAsync(cancellationToken);
        if (pending.Count > 0)
        {
            LogMigrated(pending.Count, string.Join(", ", pending));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied {Count} migration(s) to the movie database: {Migrations}")]
    private partial void LogMigrated(int count, string migrations);
}
