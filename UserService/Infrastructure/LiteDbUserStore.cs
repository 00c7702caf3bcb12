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
/// Each statement is atomic on its own, which is all this store relies on: uniqueness comes from
/// unique indexes, and every other decision is one conditional update of one document.
/// </remarks>
internal sealed class LiteDbUserStore : IUserStore, IDisposable
{
    private const int DuplicateKeyErrorCode = LiteException.INDEX_DUPLICATE_KEY;

    private readonly LiteDatabase _database;
    private readonly BsonMapper _mapper;
    private readonly ILiteCollection<User> _users;
    private readonly ILiteCollection<ProcessedCommand> _commands;
    private readonly ILiteCollection<SessionFamily> _families;
    private readonly ILiteCollection<RefreshToken> _tokens;
    private readonly SchemaSetup _schema;

    public LiteDbUserStore(string connectionString)
    {
        // Nulls are written too: a conditional update sets every field, and one that became null must not keep its old value.
        _mapper = new BsonMapper { SerializeNullValues = true };
        _mapper.Entity<User>().Id(u => u.Id, autoId: false).Ignore(u => u.IsAdmin).Ignore(u => u.IsPending).Ignore(u => u.CurrentStamp);
        _mapper.Entity<ProcessedCommand>().Id(r => r.Id, autoId: false);
        _mapper.Entity<SessionFamily>().Id(f => f.Id, autoId: false);
        _mapper.Entity<RefreshToken>().Id(t => t.Id, autoId: false);

        var connection = new ConnectionString(connectionString);
        if (Path.GetDirectoryName(Path.GetFullPath(connection.Filename)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        _database = new LiteDatabase(connection, _mapper);
        _users = _database.GetCollection<User>("users");
        _commands = _database.GetCollection<ProcessedCommand>("processed_commands");
        _families = _database.GetCollection<SessionFamily>("session_families");
        _tokens = _database.GetCollection<RefreshToken>("refresh_tokens");
        _schema = new SchemaSetup(() =>
        {
            // Accounts stored before versions, skeletons and stamps existed get them first: the unique
            // index on the skeleton must not meet a document without one. Versions are 64-bit: the
            // mapper reads Version as a long and will not convert a 32-bit number written by other tools.
            _users.UpdateMany(BsonExpression.Create("{ Version: @0 }", 0L), BsonExpression.Create("Version = null"));
            _users.UpdateMany(BsonExpression.Create("{ Version: INT64(Version) }"), BsonExpression.Create("IS_INT32(Version) OR IS_DOUBLE(Version)"));
            foreach (var user in _users.Find(BsonExpression.Create("UserNameSkeleton = null OR SecurityStamp = null OR HasBeenAdmin = null")).ToList())
            {
                UserMigration.Upgrade(user, skeleton => _users.Exists(u => u.UserNameSkeleton == skeleton));
                _users.Update(user);
            }

            _users.EnsureIndex(u => u.NormalizedUserName, unique: true);
            _users.EnsureIndex(u => u.UserNameSkeleton, unique: true);
            _users.EnsureIndex(u => u.NormalizedEmail, unique: true);
            _users.EnsureIndex(u => u.RegistrationRequestId, unique: true);
            _users.EnsureIndex(u => u.CreatedAt);
            _users.EnsureIndex(u => u.DeletedAt);
            _users.EnsureIndex(u => u.ActivationTokenHash);
            _users.EnsureIndex(u => u.PasswordResetTokenHash);
            _users.EnsureIndex(u => u.PasswordResetReplacedTokenHash);
            _families.EnsureIndex(f => f.UserId);
            _families.EnsureIndex(f => f.ExpiresAt);
            _tokens.EnsureIndex(t => t.FamilyId);
            _tokens.EnsureIndex(t => t.UserId);
            _tokens.EnsureIndex(t => t.ExpiresAt);
            _commands.EnsureIndex(c => c.At);
            return Task.CompletedTask;
        });
    }

    public Task InitializeAsync(CancellationToken cancellationToken) => _schema.EnsureAsync();

    /// <summary>Checks that the file answers a trivial query (MongoDB has the client's own health check).</summary>
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        _ = _users.Count();
    }

    public async Task<UserInsertResult> InsertAsync(User user, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
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

    // By primary key: LiteDB then reads the document through its _id index without parsing a query
    // expression (a LINQ predicate is translated anew on every call: bench/RESULTS.md).
    public async Task<User?> FindByIdAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        return _users.FindById(id) is { DeletedAt: null } user ? user : null;
    }

    public Task<User?> FindByUserNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        FindAsync(u => u.NormalizedUserName == normalizedUserName && u.DeletedAt == null);

    public Task<User?> FindBySkeletonAsync(string skeleton, CancellationToken cancellationToken) =>
        FindAsync(u => u.UserNameSkeleton == skeleton && u.DeletedAt == null);

    public Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        FindAsync(u => u.NormalizedEmail == normalizedEmail && u.DeletedAt == null);

    public Task<User?> FindByRegistrationRequestIdAsync(string requestId, CancellationToken cancellationToken) =>
        FindAsync(u => u.RegistrationRequestId == requestId && u.DeletedAt == null);

    public Task<User?> FindByActivationTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        FindAsync(u => u.ActivationTokenHash == tokenHash && u.DeletedAt == null);

    public Task<User?> FindByPasswordResetTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        FindAsync(u => (u.PasswordResetTokenHash == tokenHash || u.PasswordResetReplacedTokenHash == tokenHash) && u.DeletedAt == null);

    public Task<User?> FindTombstoneAsync(string id, CancellationToken cancellationToken) =>
        FindAsync(u => u.Id == id && u.DeletedAt != null);

    private async Task<User?> FindAsync(System.Linq.Expressions.Expression<Func<User, bool>> predicate)
    {
        await _schema.EnsureAsync();
        return _users.FindOne(predicate);
    }

    public async Task<(IReadOnlyList<User> Items, long TotalCount)> ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        var items = _users.Query().Where(u => u.DeletedAt == null).OrderBy(u => u.CreatedAt).Skip(skip).Limit(take).ToList();
        return (items, _users.LongCount(u => u.DeletedAt == null));
    }

    public async Task<long> CountAdminsAsync(CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        return _users.LongCount(u => u.Roles.Contains(Role.Admin) && u.DeletedAt == null);
    }

    public async Task<UserUpdateResult> UpdateAsync(User user, long expectedVersion, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        user.Version = expectedVersion + 1;
        try
        {
            // One statement: every field set, but only if the document is still at the version that was read.
            var document = _mapper.ToDocument(user);
            var fields = document.Keys.Where(key => key != "_id").ToList();
            var updated = _users.UpdateMany(
                BsonExpression.Create("{ " + string.Join(", ", fields.Select((field, i) => $"{field}: @{i}")) + " }", [.. fields.Select(field => document[field])]),
                BsonExpression.Create("_id = @0 AND Version = @1 AND DeletedAt = null", user.Id, expectedVersion));
            if (updated == 1)
            {
                return UserUpdateResult.Updated;
            }
        }
        catch (LiteException ex) when (ex.ErrorCode == DuplicateKeyErrorCode)
        {
            user.Version = expectedVersion;
            return UserUpdateResult.Duplicate;
        }

        user.Version = expectedVersion;
        return _users.Exists(u => u.Id == user.Id && u.DeletedAt == null) ? UserUpdateResult.Conflict : UserUpdateResult.NotFound;
    }

    public async Task SaveProcessedCommandAsync(ProcessedCommand command, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
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
        await _schema.EnsureAsync();
        return _commands.FindById(requestId);
    }

    public async Task InsertSessionFamilyAsync(SessionFamily family, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        _families.Insert(family);
    }

    public async Task<SessionFamily?> FindSessionFamilyAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        return _families.FindById(id);
    }

    public async Task RevokeSessionFamilyAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        _families.UpdateMany(BsonExpression.Create("{ Status: @0 }", SessionFamilyStatus.Revoked), BsonExpression.Create("_id = @0", id));
    }

    public async Task ExtendSessionFamilyAsync(string id, DateTime expiresAt, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        _families.UpdateMany(BsonExpression.Create("{ ExpiresAt: @0 }", expiresAt), BsonExpression.Create("_id = @0 AND ExpiresAt < @1", id, expiresAt));
    }

    public async Task InsertRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        _tokens.Insert(token);
    }

    public async Task<RefreshToken?> FindRefreshTokenAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        return _tokens.FindById(id);
    }

    public async Task<bool> TryMarkRefreshTokenUsedAsync(string id, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        return _tokens.UpdateMany(
            BsonExpression.Create("{ Status: @0 }", RefreshTokenStatus.Used),
            BsonExpression.Create("_id = @0 AND Status = @1", id, RefreshTokenStatus.Active)) == 1;
    }

    public async Task DeleteSessionsOfUserAsync(string userId, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        _tokens.DeleteMany(t => t.UserId == userId);
        _families.DeleteMany(f => f.UserId == userId);
    }

    public async Task<PurgeResult> PurgeAsync(DateTime now, DateTime pendingRegisteredBefore, CancellationToken cancellationToken)
    {
        await _schema.EnsureAsync();
        var kept = now - ProcessedCommand.Retention;
        return new PurgeResult(
            _tokens.DeleteMany(t => t.ExpiresAt < now),
            _families.DeleteMany(f => f.ExpiresAt < now),
            _commands.DeleteMany(c => c.At < kept),
            _users.DeleteMany(u => u.DeletedAt != null && u.DeletedAt < kept),
            _users.DeleteMany(u => u.State == AccountState.Pending && u.DeletedAt == null && u.CreatedAt < pendingRegisteredBefore));
    }

    public void Dispose() => _database.Dispose();
}
