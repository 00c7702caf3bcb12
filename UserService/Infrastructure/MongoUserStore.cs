using MongoDB.Bson.Serialization;
using MongoDB.Driver;
using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>
/// The user store on MongoDB (what the AppHost and azd use). Works on a standalone server: no
/// transactions are needed, because unique indexes decide every race and the refresh-token state
/// change is one conditional update.
/// </summary>
internal sealed class MongoUserStore : IUserStore
{
    private static readonly Lock ClassMapGate = new();

    private readonly IMongoCollection<User> _users;
    private readonly IMongoCollection<ProcessedCommand> _commands;
    private readonly IMongoCollection<RefreshToken> _tokens;
    private readonly IMongoDatabase _database;
    private readonly Initialization _initialized;

    public MongoUserStore(IMongoDatabase database)
    {
        RegisterClassMaps();
        _database = database;
        _users = database.GetCollection<User>("users");
        _commands = database.GetCollection<ProcessedCommand>("processed_commands");
        _tokens = database.GetCollection<RefreshToken>("refresh_tokens");
        _initialized = new Initialization(CreateIndexesAsync);
    }

    private async Task CreateIndexesAsync()
    {
        var user = Builders<User>.IndexKeys;
        await _users.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<User>(user.Ascending(u => u.NormalizedUserName), new CreateIndexOptions { Unique = true, Name = "ux_username" }),
            new CreateIndexModel<User>(user.Ascending(u => u.NormalizedEmail), new CreateIndexOptions { Unique = true, Name = "ux_email" }),
            new CreateIndexModel<User>(user.Ascending(u => u.RegistrationRequestId), new CreateIndexOptions { Unique = true, Name = "ux_registration_request" }),
            new CreateIndexModel<User>(user.Ascending(u => u.CreatedAt), new CreateIndexOptions { Name = "ix_created" }),
        ]);

        await _commands.Indexes.CreateOneAsync(new CreateIndexModel<ProcessedCommand>(
            Builders<ProcessedCommand>.IndexKeys.Ascending(c => c.At),
            new CreateIndexOptions { Name = "ttl_at", ExpireAfter = ProcessedCommand.Retention }));

        var token = Builders<RefreshToken>.IndexKeys;
        await _tokens.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<RefreshToken>(token.Ascending(t => t.FamilyId), new CreateIndexOptions { Name = "ix_family" }),
            new CreateIndexModel<RefreshToken>(token.Ascending(t => t.UserId), new CreateIndexOptions { Name = "ix_user" }),
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
                map.SetIgnoreExtraElements(true);
            });
            BsonClassMap.RegisterClassMap<ProcessedCommand>(map =>
            {
                map.AutoMap();
                map.MapIdMember(r => r.Id);
                map.SetIgnoreExtraElements(true);
            });
            BsonClassMap.RegisterClassMap<RefreshToken>(map =>
            {
                map.AutoMap();
                map.MapIdMember(t => t.Id);
                map.SetIgnoreExtraElements(true);
            });
        }
    }

    private Task Ready => _initialized.EnsureAsync();

    public Task InitializeAsync(CancellationToken cancellationToken) => Ready;

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await _database.RunCommandAsync<MongoDB.Bson.BsonDocument>(new MongoDB.Bson.BsonDocument("ping", 1), cancellationToken: cancellationToken);
    }

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

    public async Task<User?> FindByIdAsync(string id, CancellationToken cancellationToken)
    {
        await Ready;
        return await _users.Find(u => u.Id == id).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<User?> FindByUserNameAsync(string normalizedUserName, CancellationToken cancellationToken)
    {
        await Ready;
        return await _users.Find(u => u.NormalizedUserName == normalizedUserName).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<User?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken)
    {
        await Ready;
        return await _users.Find(u => u.NormalizedEmail == normalizedEmail).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<User?> FindByRegistrationRequestIdAsync(string requestId, CancellationToken cancellationToken)
    {
        await Ready;
        return await _users.Find(u => u.RegistrationRequestId == requestId).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<User> Items, long TotalCount)> ListAsync(int skip, int take, CancellationToken cancellationToken)
    {
        await Ready;
        var items = await _users.Find(FilterDefinition<User>.Empty).SortBy(u => u.CreatedAt).Skip(skip).Limit(take).ToListAsync(cancellationToken);
        var total = await _users.CountDocumentsAsync(FilterDefinition<User>.Empty, cancellationToken: cancellationToken);
        return (items, total);
    }

    public async Task<UserUpdateResult> UpdateAsync(User user, CancellationToken cancellationToken)
    {
        await Ready;
        try
        {
            var result = await _users.ReplaceOneAsync(u => u.Id == user.Id, user, cancellationToken: cancellationToken);
            return result.MatchedCount == 1 ? UserUpdateResult.Updated : UserUpdateResult.NotFound;
        }
        catch (MongoWriteException ex) when (ex.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            return UserUpdateResult.Duplicate;
        }
    }

    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken)
    {
        await Ready;
        await _tokens.DeleteManyAsync(t => t.UserId == id, cancellationToken);
        var result = await _users.DeleteOneAsync(u => u.Id == id, cancellationToken);
        return result.DeletedCount == 1;
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

    public async Task RevokeRefreshTokenFamilyAsync(string familyId, CancellationToken cancellationToken)
    {
        await Ready;
        await _tokens.UpdateManyAsync(t => t.FamilyId == familyId, Builders<RefreshToken>.Update.Set(t => t.Status, RefreshTokenStatus.Revoked), cancellationToken: cancellationToken);
    }

    public async Task RevokeRefreshTokensOfUserAsync(string userId, CancellationToken cancellationToken)
    {
        await Ready;
        await _tokens.UpdateManyAsync(t => t.UserId == userId, Builders<RefreshToken>.Update.Set(t => t.Status, RefreshTokenStatus.Revoked), cancellationToken: cancellationToken);
    }
}
