using Microsoft.Extensions.Options;
using UserService.Settings;

namespace UserService.Infrastructure;

/// <summary>
/// Removes what is past its retention — expired refresh tokens and sessions, command records and
/// tombstones older than their retention, accounts never activated within
/// <see cref="AccountOptions.PendingAccountLifetime"/> — at start-up and every <see cref="AccountOptions.PurgeInterval"/>.
/// MongoDB's TTL indexes do the same by themselves; LiteDB has none, and every instance purging is
/// harmless (deleting what is already gone deletes nothing).
/// </summary>
internal sealed partial class StorePurge(IUserStore store, IOptions<AccountOptions> options, TimeProvider time, ILogger<StorePurge> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PurgeInterval, time);
        do
        {
            try
            {
                var now = time.GetUtcNow().UtcDateTime;
                var purged = await store.PurgeAsync(now, now - options.Value.PendingAccountLifetime, stoppingToken);
                if (purged.Total > 0)
                {
                    LogPurged(purged.RefreshTokens, purged.SessionFamilies, purged.Commands, purged.Tombstones, purged.PendingAccounts);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The store is away (readiness says so): the next round tries again.
                LogFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Purged {Tokens} refresh tokens, {Families} sessions, {Commands} command records, {Tombstones} deleted accounts past their retention and {Pending} accounts never activated")]
    private partial void LogPurged(long tokens, long families, long commands, long tombstones, long pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Purging the user store failed: {Error}")]
    private partial void LogFailed(string error);
}
