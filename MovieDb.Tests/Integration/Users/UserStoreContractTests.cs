using MongoDB.Driver;
using MovieDb.Tests.Infrastructure;
using UserService.Infrastructure;
using UserService.Model;

namespace MovieDb.Tests.Integration.Users;

/// <summary>
/// The contract every user store keeps, run against LiteDB always and against MongoDB wherever one
/// is reachable (MOVIEDB_TEST_MONGODB or Docker).
/// </summary>
public abstract class UserStoreContractTests : IAsyncLifetime
{
    private IUserStore? _store;

    protected IUserStore Store => _store ?? throw new InvalidOperationException("not initialised");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected abstract Task<IUserStore> CreateStoreAsync();

    protected virtual ValueTask CleanUpAsync() => ValueTask.CompletedTask;

    public async ValueTask InitializeAsync()
    {
        _store = await CreateStoreAsync();
        await _store.InitializeAsync(Ct);
    }

    public async ValueTask DisposeAsync()
    {
        (_store as IDisposable)?.Dispose();
        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    private static User NewUser(string name, string? email = null, string? requestId = null, DateTime? createdAt = null) => new()
    {
        Id = Guid.CreateVersion7().ToString(),
        UserName = name,
        NormalizedUserName = name.ToUpperInvariant(),
        Email = email ?? $"{name}@example.test",
        NormalizedEmail = (email ?? $"{name}@example.test").ToUpperInvariant(),
        PasswordHash = "hash",
        Roles = [Role.User],
        CreatedAt = createdAt ?? DateTime.UtcNow,
        UpdatedAt = DateTime.UtcNow,
        RegistrationRequestId = requestId ?? Guid.NewGuid().ToString(),
    };

    private static RefreshToken NewToken(string userId, string family) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        FamilyId = family,
        UserId = userId,
        CreatedAt = DateTime.UtcNow,
        ExpiresAt = DateTime.UtcNow.AddDays(1),
        Status = RefreshTokenStatus.Active,
    };

    [Fact]
    public async Task An_inserted_user_is_found_by_id_name_email_and_request_id_with_its_fields_intact()
    {
        var user = NewUser("amélie", "amelie@example.test", "req-1", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));

        Assert.Equal(UserInsertResult.Inserted, await Store.InsertAsync(user, Ct));

        var byId = await Store.FindByIdAsync(user.Id, Ct);
        Assert.NotNull(byId);
        Assert.Equal("amélie", byId.UserName);
        Assert.Equal([Role.User], byId.Roles);
        Assert.Equal(user.CreatedAt, byId.CreatedAt.ToUniversalTime());
        Assert.Equal(user.Id, (await Store.FindByUserNameAsync("AMÉLIE", Ct))?.Id);
        Assert.Equal(user.Id, (await Store.FindByEmailAsync("AMELIE@EXAMPLE.TEST", Ct))?.Id);
        Assert.Equal(user.Id, (await Store.FindByRegistrationRequestIdAsync("req-1", Ct))?.Id);
        Assert.Null(await Store.FindByIdAsync("nobody", Ct));
    }

    [Fact]
    public async Task A_taken_user_name_email_or_request_id_is_a_duplicate()
    {
        await Store.InsertAsync(NewUser("bob", "bob@example.test", "req-bob"), Ct);

        Assert.Equal(UserInsertResult.Duplicate, await Store.InsertAsync(NewUser("bob", "other@example.test"), Ct));
        Assert.Equal(UserInsertResult.Duplicate, await Store.InsertAsync(NewUser("bobby", "bob@example.test"), Ct));
        Assert.Equal(UserInsertResult.Duplicate, await Store.InsertAsync(NewUser("robert", "robert@example.test", "req-bob"), Ct));
        Assert.Equal(1, (await Store.ListAsync(0, 10, Ct)).TotalCount);
    }

    [Fact]
    public async Task Concurrent_inserts_of_the_same_request_id_create_one_user()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.InsertAsync(NewUser($"racer{i}", requestId: "same-request"), Ct), Ct)));

        Assert.Single(results, r => r == UserInsertResult.Inserted);
        Assert.Equal(1, (await Store.ListAsync(0, 10, Ct)).TotalCount);
    }

    [Fact]
    public async Task Listing_pages_oldest_first_with_the_total()
    {
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < 5; i++)
        {
            await Store.InsertAsync(NewUser($"user{i}", createdAt: start.AddMinutes(4 - i)), Ct);
        }

        var (page, total) = await Store.ListAsync(1, 2, Ct);

        Assert.Equal(5, total);
        Assert.Equal(["user3", "user2"], page.Select(u => u.UserName));
    }

    [Fact]
    public async Task Updating_to_a_taken_email_is_a_duplicate_and_changes_nothing()
    {
        var carol = NewUser("carol");
        var dave = NewUser("dave");
        await Store.InsertAsync(carol, Ct);
        await Store.InsertAsync(dave, Ct);

        dave.Email = carol.Email;
        dave.NormalizedEmail = carol.NormalizedEmail;
        Assert.Equal(UserUpdateResult.Duplicate, await Store.UpdateAsync(dave, Ct));
        Assert.Equal("dave@example.test", (await Store.FindByIdAsync(dave.Id, Ct))!.Email);

        dave.Email = "dave2@example.test";
        dave.NormalizedEmail = "DAVE2@EXAMPLE.TEST";
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(dave, Ct));
        Assert.Equal("dave2@example.test", (await Store.FindByIdAsync(dave.Id, Ct))!.Email);
        Assert.Equal(UserUpdateResult.NotFound, await Store.UpdateAsync(NewUser("ghost"), Ct));
    }

    [Fact]
    public async Task Deleting_a_user_removes_their_refresh_tokens()
    {
        var erin = NewUser("erin");
        await Store.InsertAsync(erin, Ct);
        var token = NewToken(erin.Id, "family-erin");
        await Store.InsertRefreshTokenAsync(token, Ct);

        Assert.True(await Store.DeleteAsync(erin.Id, Ct));

        Assert.Null(await Store.FindByIdAsync(erin.Id, Ct));
        Assert.Null(await Store.FindRefreshTokenAsync(token.Id, Ct));
        Assert.False(await Store.DeleteAsync(erin.Id, Ct));
    }

    [Fact]
    public async Task The_first_recorded_command_reply_wins()
    {
        await Store.SaveProcessedCommandAsync(new ProcessedCommand { Id = "cmd-1", Type = "users.delete", Fingerprint = "f", Reply = "first", At = DateTime.UtcNow }, Ct);
        await Store.SaveProcessedCommandAsync(new ProcessedCommand { Id = "cmd-1", Type = "users.delete", Fingerprint = "f", Reply = "second", At = DateTime.UtcNow }, Ct);

        Assert.Equal("first", (await Store.FindProcessedCommandAsync("cmd-1", Ct))?.Reply);
        Assert.Null(await Store.FindProcessedCommandAsync("cmd-2", Ct));
    }

    [Fact]
    public async Task An_active_refresh_token_can_be_marked_used_exactly_once_even_concurrently()
    {
        var token = NewToken("u", "family");
        await Store.InsertRefreshTokenAsync(token, Ct);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Store.TryMarkRefreshTokenUsedAsync(token.Id, Ct), Ct)));

        Assert.Single(results, r => r);
        var stored = await Store.FindRefreshTokenAsync(token.Id, Ct);
        Assert.Equal(RefreshTokenStatus.Used, stored!.Status);
        Assert.Equal(("family", "u"), (stored.FamilyId, stored.UserId));
        Assert.Equal(token.ExpiresAt, stored.ExpiresAt.ToUniversalTime(), TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task Revoking_a_family_or_a_user_revokes_only_their_tokens()
    {
        var first = NewToken("u1", "family-1");
        var sibling = NewToken("u1", "family-1");
        var other = NewToken("u1", "family-2");
        var stranger = NewToken("u2", "family-3");
        foreach (var token in new[] { first, sibling, other, stranger })
        {
            await Store.InsertRefreshTokenAsync(token, Ct);
        }

        await Store.RevokeRefreshTokenFamilyAsync("family-1", Ct);
        Assert.Equal(RefreshTokenStatus.Revoked, (await Store.FindRefreshTokenAsync(first.Id, Ct))!.Status);
        Assert.Equal(RefreshTokenStatus.Revoked, (await Store.FindRefreshTokenAsync(sibling.Id, Ct))!.Status);
        Assert.Equal(RefreshTokenStatus.Active, (await Store.FindRefreshTokenAsync(other.Id, Ct))!.Status);

        await Store.RevokeRefreshTokensOfUserAsync("u1", Ct);
        Assert.Equal(RefreshTokenStatus.Revoked, (await Store.FindRefreshTokenAsync(other.Id, Ct))!.Status);
        Assert.Equal(RefreshTokenStatus.Active, (await Store.FindRefreshTokenAsync(stranger.Id, Ct))!.Status);
        Assert.False(await Store.TryMarkRefreshTokenUsedAsync(first.Id, Ct));
    }
}

/// <summary>The contract on LiteDB, in a fresh file per test.</summary>
public sealed class LiteDbUserStoreContractTests : UserStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IUserStore> CreateStoreAsync() =>
        Task.FromResult<IUserStore>(new LiteDbUserStore($"Filename={Path.Combine(_directory, "users.db")};Connection=shared"));

    protected override ValueTask CleanUpAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>The contract on MongoDB, in a fresh database per test; skipped (saying why) where no MongoDB is reachable.</summary>
public sealed class MongoUserStoreContractTests(TestServers servers) : UserStoreContractTests
{
    private MongoClient? _client;
    private string? _database;

    protected override async Task<IUserStore> CreateStoreAsync()
    {
        var connectionString = await servers.MongoDb.GetConnectionStringAsync();
        _client = new MongoClient(connectionString);
        _database = $"moviedb_t_{Guid.NewGuid():N}";
        return new MongoUserStore(_client.GetDatabase(_database));
    }

    protected override async ValueTask CleanUpAsync()
    {
        if (_client is not null && _database is not null)
        {
            await _client.DropDatabaseAsync(_database);
            _client.Dispose();
        }
    }
}
