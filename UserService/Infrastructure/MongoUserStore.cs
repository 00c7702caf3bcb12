using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using UserService.Contracts;
using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>
/// The user store on MongoDB (what the AppHost and azd use). Works on a standalone server: no
/// transactions are needed, because unique indexes decide every insert race and every other decision
/// is one conditional update of one document. TTL indexes purge expired sessions and old command
/// records by themselves; <see cref="PurgeAsync"/> does the same at once.
/// </summary>
internal sealed class MongoUserStore : IUserStore
{
    private static readonly Lock ClassMapGate = new();

    private readonly IMongoCollection<User> _users;
    private readonly IMongoCollection<ProcessedCommand> _commands;
    private readonly IMongoCollection<SessionFamily> _families;
    private readonly IMongoCollection<RefreshToken> _tokens;
    private readonly SchemaSetup _schema;

    public MongoUserStore(IMongoDatabase database)
    {
        RegisterClassMaps();
        _users = database.GetCollection<User>("users");
        _commands = database.GetCollection<ProcessedCommand>("processed_commands");
        _families = database.GetCollection<SessionFamily>("session_families");
        _tokens = database.GetCollection<RefreshToken>("refresh_tokens");
        _schema = new SchemaSetup(SetUpSchemaAsync);
    }

    private static FilterDefinitionBuilder<User> UserFilter => Builders<User>.Filter;

    private static FilterDefinition<User> Live => UserFilter.Eq(u => u.DeletedAt, null);

    // Accounts stored before versions, skeletons and stamps existed get them first: the unique index
    // on the skeleton must not meet two documents without one.
    private async Task SetUpSchemaAsync()
    {
        await UpgradeOldAccountsAsync();
        await CreateIndexesAsync();
    }

    /// <summary>
    /// The one-time data upgrade of accounts stored by older versions (UserMigration). Each write is
    /// guarded by what it fixes, so instances starting together cannot undo each other's work.
    /// </summary>
    private async Task UpgradeOldAccountsAsync()
    {
        await _users.UpdateManyAsync(UserFilter.Exists(u => u.Version, false), Builders<User>.Update.Set(u => u.Version, 0L));
        var old = await _users.Find(UserFilter.Eq(u => u.UserNameSkeleton, null) | UserFilter.Eq(u => u.SecurityStamp, null) | UserFilter.Exists(u => u.HasBeenAdmin, false)).ToListAsync();
        foreach (var stored in old)
        {
            var (skeleton, stamp) = (stored.UserNameSkeleton, stored.SecurityStamp);
            var taken = skeleton is null && await _users.Find(UserFilter.Eq(u => u.UserNameSkeleton, UserRules.Skeleton(stored.UserName))).AnyAsync();
            UserMigration.Upgrade(stored, _ => taken);
            var id = UserFilter.Eq(u => u.Id, stored.Id);
            if (skeleton is null)
            {
                await _users.UpdateOneAsync(id & UserFilter.Eq(u => u.UserNameSkeleton, null), Builders<User>.Update.Set(u => u.UserNameSkeleton, stored.UserNameSkeleton));
            }

            if (stamp is null)
            {
                await _users.UpdateOneAsync(id & UserFilter.Eq(u => u.SecurityStamp, null), Builders<User>.Update.Set(u => u.SecurityStamp, stored.SecurityStamp));
            }

            await _users.UpdateOneAsync(id & UserFilter.Exists(u => u.HasBeenAdmin, false), Builders<User>.Update.Set(u => u.HasBeenAdmin, stored.HasBeenAdmin));
        }
    }

    /// <summary>The indexes every query and uniqueness rule relies on (idempotent: creating an existing index is a no-op).</summary>
    private async Task CreateIndexesAsync()
    {
        var user = Builders<User>.IndexKeys;
        await _users.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<User>(user.Ascending(u => u.NormalizedUserName), new CreateIndexOptions { Unique = true, Name = "ux_username" }),
            new CreateIndexModel<User>(user.Ascending(u => u.UserNameSkeleton), new CreateIndexOptions { Unique = true, Name = "ux_username_skeleton" }),
            new CreateIndexModel<User>(user.Ascending(u => u.NormalizedEmail), new CreateIndexOptions { Unique = true, Name = "ux_email" }),
            new CreateIndexModel<User>(user.Ascending(u => u.RegistrationRequestId), new CreateIndexOptions { Unique = true, Name = "ux_registration_request" }),
            new CreateIndexModel<User>(user.Ascending(u => u.CreatedAt), new CreateIndexOptions { Name = "ix_created" }),
            new CreateIndexModel<User>(user.Ascending(u => u.DeletedAt), new CreateIndexOptions { Name = "ttl_deleted", ExpireAfter = ProcessedCommand.Retention }),
            new CreateIndexModel<User>(user.Ascending(u => u.ActivationTokenHash), new CreateIndexOptions { Name = "ix_activation_token" }),
            new CreateIndexModel<User>(user.Ascending(u => u.PasswordResetTokenHash), new CreateIndexOptions { Name = "ix_password_reset_token" }),
            new CreateIndexModel<User>(user.Ascending(u => u.PasswordResetReplacedTokenHash), new CreateIndexOptions { Name = "ix_password_reset_replaced_token" }),
        ]);

        await _commands.Indexes.CreateOneAsync(new CreateIndexModel<ProcessedCommand>(
            Builders<ProcessedCommand>.IndexKeys.Ascending(c => c.At),
            new CreateIndexOptions { Name = "ttl_at", ExpireAfter = ProcessedCommand.Retention }));

        var family = Builders<SessionFamily>.IndexKeys;
        await _families.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<SessionFamily>(family.Ascending(f => f.UserId), new CreateIndexOptions { Name = "ix_user" }),
            new CreateIndexModel<SessionFamily>(family.Ascending(f => f.ExpiresAt), new CreateIndexOptions { Name = "ttl_expires", ExpireAfter = TimeSpan.Zero }),
        ]);

        var token = Builders<RefreshToken>.IndexKeys;
        await _tokens.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<RefreshToken>(token.Ascending(t => t.FamilyId), new CreateIndexOptions { Name = "ix_family" }),
            new CreateIndexModel<RefreshToken>(token.Ascending(t => t.UserId), new CreateIndexOptions { Name = "ix_user" }),
            new CreateIndexModel<RefreshToken>(token.Ascending(t => t.ExpiresAt), new CreateIndexOptions { Name = "ttl_expires", ExpireAfter = TimeSpan.Zero }),
        ]);
    }

    private static void RegisterClassMaps()
    {
        lock (ClassMapGate)
        {
            if (BsonClassMap.IsClassMapRegistered(typeof(User)))
            {
                return;
            }

            BsonClassMap.RegisterClassMap<User>(map =>
            {
                map.AutoMap();
                map.MapIdMember(u => u.Id);
                map.UnmapMember(u => u.IsAdmin);
                map.UnmapMember(u => u.IsPending);
                map.UnmapMember(u => u.CurrentStamp);
                map.SetIgnoreExtraElements(true);
            });
            foreach (var type in new[] { typeof(ProcessedCommand), typeof(SessionFamily), typeof(RefreshToken) })
            {
                var map = new BsonClassMap(type);
                map.AutoMap();
                map.MapIdMember(type.GetProperty("Id")!);
                map.SetIgnoreExtraElements(true);
                BsonClassMap.RegisterClassMap(map);
            }
        }
    }

    private Task Ready => _schema.EnsureAsync();

    public Task InitializeAsync(CancellationToken cancellationToken) => Ready;

    public async Task<UserInsertResult> InsertAsync(User user, CancellationToken cancellationToken)
    {
        await Ready;
        try
        {
            await _users.InsertOneAsync(user, cancellationToken: cancellationToken);
            return UserInsertResult.Inserted;
        }
        catch (MongoWriteException ex) when (ex.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            return UserInsertResult.Duplicate;
        }
    }

    public Task<User?> FindByIdAsync(string id, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.Id, id) & Live, cancellationToken);

    public Task<User?> FindByUserNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.NormalizedUserName, normalizedUserName) & Live, cancellationToken);

    public Task<User?> FindBySkeletonAsync(string skeleton, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.UserNameSkeleton, skeleton) & Live, cancellationToken);

    public Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.NormalizedEmail, normalizedEmail) & Live, cancellationToken);

    public Task<User?> FindByRegistrationRequestIdAsync(string requestId, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.RegistrationRequestId, requestId) & Live, cancellationToken);

    public Task<User?> FindByActivationTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.ActivationTokenHash, tokenHash) & Live, cancellationToken);

    public Task<User?> FindByPasswordResetTokenHashAsync(string tokenHash, CancellationToken cancellationToken) =>
        FindOneAsync((UserFilter.Eq(u => u.PasswordResetTokenHash, tokenHash) | UserFilter.Eq(u => u.PasswordResetReplacedTokenHash, tokenHash)) & Live, cancellationToken);

    public Task<User?> FindTombstoneAsync(string id, CancellationToken cancellationToken) =>
        FindOneAsync(UserFilter.Eq(u => u.Id, id) & UserFilter.Ne(u => u.DeletedAt, null), cancellationToken);

    private async Task<User?> FindOneAsync(FilterDefinition<User> filter, CancellationToken cancellationToken)
    {
        await Ready;
        return await _users.Find(filter).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<User> Items, long TotalCount)> ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        await Ready;
        var items = await _users.Find(Live).SortBy(u => u.CreatedAt).Skip(skip).Limit(take).ToListAsync(cancellationToken);
        var total = await _users.CountDocumentsAsync(Live, cancellationToken: cancellationToken);
        return (items, total);
    }

    public async Task<long> CountAdminsAsync(CancellationToken cancellationToken)
    {
        await Ready;
        return await _users.CountDocumentsAsync(UserFilter.AnyEq(u => u.Roles, Role.Admin) & Live, cancellationToken: cancellationToken);
    }

    public async Task<UserUpdateResult> UpdateAsync(User user, long expectedVersion, CancellationToken cancellationToken)
    {
        await Ready;
        user.Version = expectedVersion + 1;
        try
        {
            var result = await _users.ReplaceOneAsync(
                UserFilter.Eq(u => u.Id, user.Id) & UserFilter.Eq(u => u.Version, expectedVersion) & Live,
                user,
                cancellationToken: cancellationToken);
            if (result.MatchedCount == 1)
            {
                return UserUpdateResult.Updated;
            }
        }
        catch (MongoWriteException ex) when (ex.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            user.Version = expectedVersion;
            return UserUpdateResult.Duplicate;
        }

        user.Version = expectedVersion;
        return await _users.Find(UserFilter.Eq(u => u.Id, user.Id) & Live).AnyAsync(cancellationToken)
            ? UserUpdateResult.Conflict
            : UserUpdateResult.NotFound;
    }

    public async Task SaveProcessedCommandAsync(ProcessedCommand command, CancellationToken cancellationToken)
    {
        await Ready;
        try
        {
            await _commands.InsertOneAsync(command, cancellationToken: cancellationToken);
        }
        catch (MongoWriteException ex) when (ex.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            // The first recorded outcome wins.
        }
    }

    public async Task<ProcessedCommand?> FindProcessedCommandAsync(string requestId, CancellationToken cancellationToken)
    {
        await Ready;
        return await _commands.Find(r => r.Id == requestId).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task InsertSessionFamilyAsync(SessionFamily family, CancellationToken cancellationToken)
    {
        await Ready;
        await _families.InsertOneAsync(family, cancellationToken: cancellationToken);
    }

    public async Task<SessionFamily?> FindSessionFamilyAsync(string id, CancellationToken cancellationToken)
    {
        await Ready;
        return await _families.Find(f => f.Id == id).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task RevokeSessionFamilyAsync(string id, CancellationToken cancellationToken)
    {
        await Ready;
        await _families.UpdateOneAsync(f => f.Id == id, Builders<SessionFamily>.Update.Set(f => f.Status, SessionFamilyStatus.Revoked), cancellationToken: cancellationToken);
    }

    public async Task ExtendSessionFamilyAsync(string id, DateTime expiresAt, CancellationToken cancellationToken)
    {
        await Ready;
        await _families.UpdateOneAsync(f => f.Id == id, Builders<SessionFamily>.Update.Max(f => f.ExpiresAt, expiresAt), cancellationToken: cancellationToken);
    }

    public async Task InsertRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken)
    {
        await Ready;
        await _tokens.InsertOneAsync(token, cancellationToken: cancellationToken);
    }

    public async Task<RefreshToken?> FindRefreshTokenAsync(string id, CancellationToken cancellationToken)
    {
        await Ready;
        return await _tokens.Find(t => t.Id == id).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<bool> TryMarkRefreshTokenUsedAsync(string id, CancellationToken cancellationToken)
    {
        await Ready;
        var result = await _tokens.UpdateOneAsync(
            t => t.Id == id && t.Status == RefreshTokenStatus.Active,
            Builders<RefreshToken>.Update.Set(t => t.Status, RefreshTokenStatus.Used),
            cancellationToken: cancellationToken);
        return result.ModifiedCount == 1;
    }

    public async Task DeleteSessionsOfUserAsync(string userId, CancellationToken cancellationToken)
    {
        await Ready;
        await _tokens.DeleteManyAsync(t => t.UserId == userId, cancellationToken);
        await _families.DeleteManyAsync(f => f.UserId == userId, cancellationToken);
    }

    public async Task<PurgeResult> PurgeAsync(DateTime now, DateTime pendingRegisteredBefore, CancellationToken cancellationToken)
    {
        await Ready;
        var kept = now - ProcessedCommand.Retention;
        var tokens = await _tokens.DeleteManyAsync(t => t.ExpiresAt < now, cancellationToken);
        var families = await _families.DeleteManyAsync(f => f.ExpiresAt < now, cancellationToken);
        var commands = await _commands.DeleteManyAsync(c => c.At < kept, cancellationToken);
        var tombstones = await _users.DeleteManyAsync(UserFilter.Lt(u => u.DeletedAt, kept), cancellationToken);
        var pending = await _users.DeleteManyAsync(
            UserFilter.Eq(u => u.State, AccountState.Pending) & UserFilter.Eq(u => u.DeletedAt, null) & UserFilter.Lt(u => u.CreatedAt, pendingRegisteredBefore),
            cancellationToken);
        return new PurgeResult(tokens.DeletedCount, families.DeletedCount, commands.DeletedCount, tombstones.DeletedCount, pending.DeletedCount);
    }
}
