using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>Result of inserting a user.</summary>
public enum UserInsertResult
{
    Inserted,

    /// <summary>A unique value (user name, e-mail or registration request id) is taken.</summary>
    Duplicate,
}

/// <summary>Result of updating a user.</summary>
public enum UserUpdateResult
{
    Updated,
    NotFound,

    /// <summary>The new e-mail address belongs to another account.</summary>
    Duplicate,
}

/// <summary>
/// Where accounts, registration outcomes and refresh tokens live. Two implementations keep the same
/// contract (MovieDb.Tests/Integration/Users/UserStoreContractTests): MongoDB and embedded LiteDB.
/// Unique indexes on the normalised user name, the normalised e-mail and the registration request id
/// make every insert safe against duplicates, with or without transactions.
/// </summary>
public interface IUserStore
{
    /// <summary>Creates the indexes (idempotent). Every other member waits for it.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Checks that the store answers.</summary>
    Task PingAsync(CancellationToken cancellationToken);

    Task<UserInsertResult> InsertAsync(User user, CancellationToken cancellationToken);

    Task<User?> FindByIdAsync(string id, CancellationToken cancellationToken);

    Task<User?> FindByUserNameAsync(string normalizedUserName, CancellationToken cancellationToken);

    Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken);

    Task<User?> FindByRegistrationRequestIdAsync(string requestId, CancellationToken cancellationToken);

    /// <summary>A page of users, oldest first, and the total count.</summary>
    Task<(IReadOnlyList<User> Items, long TotalCount)> ListAsync(int skip, int take, CancellationToken cancellationToken);

    Task<UserUpdateResult> UpdateAsync(User user, CancellationToken cancellationToken);

    /// <summary>Deletes the user and their refresh tokens; false when there was no such user.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Records a command's reply unless one is recorded already (the first one wins).</summary>
    Task SaveProcessedCommandAsync(ProcessedCommand command, CancellationToken cancellationToken);

    Task<ProcessedCommand?> FindProcessedCommandAsync(string requestId, CancellationToken cancellationToken);

    Task InsertRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken);

    Task<RefreshToken?> FindRefreshTokenAsync(string id, CancellationToken cancellationToken);

    /// <summary>Marks an active token used, atomically; false when it was not active (already used, revoked, or unknown).</summary>
    Task<bool> TryMarkRefreshTokenUsedAsync(string id, CancellationToken cancellationToken);

    /// <summary>Revokes every token of a family.</summary>
    Task RevokeRefreshTokenFamilyAsync(string familyId, CancellationToken cancellationToken);

    /// <summary>Revokes every token of a user (e.g. after a password change).</summary>
    Task RevokeRefreshTokensOfUserAsync(string userId, CancellationToken cancellationToken);
}
