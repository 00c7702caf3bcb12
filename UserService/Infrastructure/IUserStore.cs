using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>
/// Where accounts, command records and sessions live. Two implementations keep the same contract
/// (MovieDb.Tests/Integration/Users/UserStoreContractTests): MongoDB and embedded LiteDB. Unique
/// indexes decide every insert race; every other decision is one conditional write to one document
/// (the account's version, a session family's status), so neither store needs transactions.
/// Deleted accounts are tombstones, invisible to every read but <see cref="FindTombstoneAsync"/>.
/// </summary>
public interface IUserStore
{
    /// <summary>Creates the indexes and brings stored documents up to date (idempotent). Every other member waits for it.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    Task<UserInsertResult> InsertAsync(User user, CancellationToken cancellationToken);

    Task<User?> FindByIdAsync(string id, CancellationToken cancellationToken);

    Task<User?> FindByUserNameAsync(string normalizedUserName, CancellationToken cancellationToken);

    Task<User?> FindBySkeletonAsync(string skeleton, CancellationToken cancellationToken);

    Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken);

    Task<User?> FindByRegistrationRequestIdAsync(string requestId, CancellationToken cancellationToken);

    /// <summary>The live account whose current activation token has this hash (hex SHA-256).</summary>
    Task<User?> FindByActivationTokenHashAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>The live account whose current password-reset token, or the one it replaced, has this hash (hex SHA-256).</summary>
    Task<User?> FindByPasswordResetTokenHashAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>The tombstone of a deleted account, if it is still kept.</summary>
    Task<User?> FindTombstoneAsync(string id, CancellationToken cancellationToken);

    /// <summary>A page of users, oldest first, and the total count.</summary>
    Task<(IReadOnlyList<User> Items, long TotalCount)> ListAsync(int skip, int take, CancellationToken cancellationToken);

    /// <summary>How many accounts hold the admin role.</summary>
    Task<long> CountAdminsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores <paramref name="user"/> if the stored account is still at <paramref name="expectedVersion"/>,
    /// and increments its version (the object's <see cref="User.Version"/> too).
    /// </summary>
    Task<UserUpdateResult> UpdateAsync(User user, long expectedVersion, CancellationToken cancellationToken);

    /// <summary>Records a command's reply unless one is recorded already (the first one wins).</summary>
    Task SaveProcessedCommandAsync(ProcessedCommand command, CancellationToken cancellationToken);

    Task<ProcessedCommand?> FindProcessedCommandAsync(string requestId, CancellationToken cancellationToken);

    Task InsertSessionFamilyAsync(SessionFamily family, CancellationToken cancellationToken);

    Task<SessionFamily?> FindSessionFamilyAsync(string id, CancellationToken cancellationToken);

    /// <summary>Revokes a session: one atomic write, after which no token of it is honoured.</summary>
    Task RevokeSessionFamilyAsync(string id, CancellationToken cancellationToken);

    /// <summary>Moves a family's expiry forward (to the expiry of its newest token).</summary>
    Task ExtendSessionFamilyAsync(string id, DateTime expiresAt, CancellationToken cancellationToken);

    Task InsertRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken);

    Task<RefreshToken?> FindRefreshTokenAsync(string id, CancellationToken cancellationToken);

    /// <summary>Marks an active token used, atomically; false when it was not active (already used, or unknown).</summary>
    Task<bool> TryMarkRefreshTokenUsedAsync(string id, CancellationToken cancellationToken);

    /// <summary>Removes the sessions and tokens of an account (after its deletion).</summary>
    Task DeleteSessionsOfUserAsync(string userId, CancellationToken cancellationToken);

    /// <summary>
    /// Removes what is past its retention: refresh tokens and session families that expired before
    /// <paramref name="now"/>, command records and tombstones older than <see cref="ProcessedCommand.Retention"/>,
    /// and accounts still pending that registered before <paramref name="pendingRegisteredBefore"/>
    /// (one conditional delete each: an account activated at the same moment stays).
    /// </summary>
    Task<PurgeResult> PurgeAsync(DateTime now, DateTime pendingRegisteredBefore, CancellationToken cancellationToken);
}
