using LiteDB;
using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>
/// The user store on LiteDB: an embedded document database in one file, the default when the
/// service runs without containers. Use <c>Connection=shared</c> in the connection string when more
/// than one process opens the file (several user service instances on one machine).
/// </summary>
/// <remarks>
/// LiteDB's API is synchronous; calls are short and serialised by LiteDB itself, so they run inline.
/// Each call is atomic on its own, which is all this store relies on: uniqueness comes from unique
/// indexes, and the refresh-token state change is one conditional update.
/// </remarks>
internal sealed class LiteDbUserStore : IUserStore, IDisposable
{
    private const int DuplicateKeyErrorCode = LiteException.INDEX_DUPLICATE_KEY;

    private readonly LiteDatabase _database;
    private readonly ILiteCollection<User> _users;
    private readonly ILiteCollection<ProcessedCommand> _commands;
    private readonly ILiteCollection<RefreshToken> _tokens;
    private readonly Initialization _initialized;

    public LiteDbUserStore(string connectionString)
    {
        var mapper = new BsonMapper();
        mapper.Entity<User>().Id(u => u.Id, autoId: false).Ignore(u => u.IsAdmin);
        mapper.Entity<ProcessedCommand>().Id(r => r.Id, autoId: false);
        mapper.Entity<RefreshToken>().Id(t => t.Id, autoId: false);

        var connection = new ConnectionString(connectionString);
        if (Path.GetDirectoryName(Path.GetFullPath(connection.Filename)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        _database = new LiteDatabase(connection, mapper);
        _users = _database.GetCollection<User>("users");
        _commands = _database.GetCollection<ProcessedCommand>("processed_commands");
        _tokens = _database.GetCollection<RefreshToken>("refresh_tokens");
        _initialized = new Initialization(() =>
        {
            _users.EnsureIndex(u => u.NormalizedUserName, unique: true);
            _users.EnsureIndex(u => u.NormalizedEmail, unique: true);
            _users.EnsureIndex(u => u.RegistrationRequestId, unique: true);
            _users.EnsureIndex(u => u.CreatedAt);
            _tokens.EnsureIndex(t => t.FamilyId);
            _tokens.EnsureIndex(t => t.UserId);
            _commands.EnsureIndex(c => c.At);

            // LiteDB has no TTL indexes: old command replies are purged at start-up instead.
            var cutoff = DateTime.UtcNow - ProcessedCommand.Retention;
            _commands.DeleteMany(c => c.At < cutoff);
            return Task.CompletedTask;
        });
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => _initialized.EnsureAsync();

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        _ = _users.Count();
    }

    public async Task<UserInsertResult> InsertAsync(User user, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        try
        {
            _users.Insert(user);
            return UserInsertResult.Inserted;
        }
        catch (LiteException ex) when (ex.ErrorCode == DuplicateKeyErrorCode)
        {
            return UserInsertResult.Duplicate;
        }
    }

    public async Task<User?> FindByIdAsync(string id, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _users.FindById(id);
    }

    public async Task<User?> FindByUserNameAsync(string normalizedUserName, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _users.FindOne(u => u.NormalizedUserName == normalizedUserName);
    }

    public async Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _users.FindOne(u => u.NormalizedEmail == normalizedEmail);
    }

    public async Task<User?> FindByRegistrationRequestIdAsync(string requestId, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _users.FindOne(u => u.RegistrationRequestId == requestId);
    }

    public async Task<(IReadOnlyList<User> Items, long TotalCount)> ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        var items = _users.Query().OrderBy(u => u.CreatedAt).Skip(skip).Limit(take).ToList();
        return (items, _users.LongCount());
    }

    public async Task<UserUpdateResult> UpdateAsync(User user, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        try
        {
            return _users.Update(user) ? UserUpdateResult.Updated : UserUpdateResult.NotFound;
        }
        catch (LiteException ex) when (ex.ErrorCode == DuplicateKeyErrorCode)
        {
            return UserUpdateResult.Duplicate;
        }
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        _tokens.DeleteMany(t => t.UserId == id);
        return _users.Delete(id);
    }

    public async Task SaveProcessedCommandAsync(ProcessedCommand command, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        try
        {
            _commands.Insert(command);
        }
        catch (LiteException ex) when (ex.ErrorCode == DuplicateKeyErrorCode)
        {
            // The first recorded outcome wins.
        }
    }

    public async Task<ProcessedCommand?> FindProcessedCommandAsync(string requestId, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _commands.FindById(requestId);
    }

    public async Task InsertRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        _tokens.Insert(token);
    }

    public async Task<RefreshToken?> FindRefreshTokenAsync(string id, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _tokens.FindById(id);
    }

    public async Task<bool> TryMarkRefreshTokenUsedAsync(string id, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        return _tokens.UpdateMany(
            BsonExpression.Create("{ Status: @0 }", RefreshTokenStatus.Used),
            BsonExpression.Create("_id = @0 AND Status = @1", id, RefreshTokenStatus.Active)) == 1;
    }

    public async Task RevokeRefreshTokenFamilyAsync(string familyId, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        _tokens.UpdateMany(
            BsonExpression.Create("{ Status: @0 }", RefreshTokenStatus.Revoked),
            BsonExpression.Create("FamilyId = @0", familyId));
    }

    public async Task RevokeRefreshTokensOfUserAsync(string userId, CancellationToken cancellationToken)
    {
        await _initialized.EnsureAsync();
        _tokens.UpdateMany(
            BsonExpression.Create("{ Status: @0 }", RefreshTokenStatus.Revoked),
            BsonExpression.Create("UserId = @0", userId));
    }

    public void Dispose() => _database.Dispose();
}
