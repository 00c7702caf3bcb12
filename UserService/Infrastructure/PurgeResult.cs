namespace UserService.Infrastructure;

/// <summary>What a purge removed.</summary>
public sealed record PurgeResult(long RefreshTokens, long SessionFamilies, long Commands, long Tombstones, long PendingAccounts)
{
    public long Total => RefreshTokens + SessionFamilies + Commands + Tombstones + PendingAccounts;
}
