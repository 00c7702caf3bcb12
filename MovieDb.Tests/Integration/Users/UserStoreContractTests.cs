using MongoDB.Bson;
using MongoDB.Driver;
using MovieDb.Tests.Infrastructure;
using UserService.Features.SignIn;
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

    /// <summary>
    /// A store, not yet initialised, over a fresh database that holds <paramref name="documents"/> in
    /// its <c>users</c> collection exactly as given (field name to string, bool, int, DateTime or string[]).
    /// </summary>
    protected abstract Task<IUserStore> CreateStoreOverAsync(IReadOnlyList<Dictionary<string, object>> documents);

    protected virtual ValueTask CleanUpAsync() => ValueTask.CompletedTask;

    /// <summary>The fields activation added to the account document.</summary>
    protected static readonly string[] ActivationFields =
    [
        nameof(User.State), nameof(User.ActivationTokenHash), nameof(User.ActivationTokenIssuedAt), nameof(User.ActivationTokenExpiresAt),
        nameof(User.ActivationEventId), nameof(User.ActivationRequestId), nameof(User.ActivatedAt),
    ];

    /// <summary>Stores <paramref name="user"/> as a document written before activation existed: without <see cref="ActivationFields"/>.</summary>
    protected abstract Task InsertWithoutActivationFieldsAsync(User user);

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
        UserNameSkeleton = UserService.Contracts.UserRules.Skeleton(name),
        Email = email ?? $"{name}@example.test",
        NormalizedEmail = (email ?? $"{name}@example.test").ToUpperInvariant(),
        PasswordHash = "hash",
        Roles = [Role.User],
        CreatedAt = createdAt ?? DateTime.UtcNow,
        UpdatedAt = DateTime.UtcNow,
        RegistrationRequestId = requestId ?? Guid.NewGuid().ToString(),
        SecurityStamp = User.NewStamp(),
    };

    private static RefreshToken NewToken(string userId, string family, DateTime? expiresAt = null) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        FamilyId = family,
        UserId = userId,
        CreatedAt = DateTime.UtcNow,
        ExpiresAt = expiresAt ?? DateTime.UtcNow.AddDays(1),
        Status = RefreshTokenStatus.Active,
    };

    private static SessionFamily NewFamily(string userId, string stamp, DateTime? expiresAt = null) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        UserId = userId,
        SecurityStamp = stamp,
        Status = SessionFamilyStatus.Active,
        CreatedAt = DateTime.UtcNow,
        ExpiresAt = expiresAt ?? DateTime.UtcNow.AddDays(1),
    };

    private Sessions NewSessions() => new(
        Store,
        TimeProvider.System,
        Microsoft.Extensions.Options.Options.Create(new UserService.Settings.RefreshTokenOptions()),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<Sessions>.Instance);

    [Fact]
    public async Task An_inserted_user_is_found_by_id_name_skeleton_email_and_request_id_with_its_fields_intact()
    {
        var user = NewUser("amélie", "amelie@example.test", "req-1", new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc));

        Assert.Equal(UserInsertResult.Inserted, await Store.InsertAsync(user, Ct));

        var byId = await Store.FindByIdAsync(user.Id, Ct);
        Assert.NotNull(byId);
        Assert.Equal("amélie", byId.UserName);
        Assert.Equal([Role.User], byId.Roles);
        Assert.Equal(user.SecurityStamp, byId.SecurityStamp);
        Assert.Equal(0, byId.Version);
        Assert.Equal(user.CreatedAt, byId.CreatedAt.ToUniversalTime());
        Assert.Equal(user.Id, (await Store.FindByUserNameAsync("AMÉLIE", Ct))?.Id);
        Assert.Equal(user.Id, (await Store.FindBySkeletonAsync(user.UserNameSkeleton!, Ct))?.Id);
        Assert.Equal(user.Id, (await Store.FindByEmailAsync("AMELIE@EXAMPLE.TEST", Ct))?.Id);
        Assert.Equal(user.Id, (await Store.FindByRegistrationRequestIdAsync("req-1", Ct))?.Id);
        Assert.Null(await Store.FindByIdAsync("nobody", Ct));
    }

    [Fact]
    public async Task An_account_stored_before_activation_existed_reads_as_active()
    {
        var legacy = NewUser("olga");
        await InsertWithoutActivationFieldsAsync(legacy);

        var read = await Store.FindByIdAsync(legacy.Id, Ct);
        Assert.NotNull(read);
        Assert.Null(read.State);
        Assert.False(read.IsPending);
        Assert.Null(read.ActivationTokenHash);
        Assert.Null(await Store.FindByActivationTokenHashAsync("ANY", Ct));
    }

    [Fact]
    public async Task The_password_reset_token_hash_finds_the_live_account_until_the_token_is_replaced_or_the_account_deleted()
    {
        var user = NewUser("rosa");
        user.PasswordResetTokenHash = "RESET-1";
        user.PasswordResetExpiresAt = new DateTime(2026, 1, 3, 4, 5, 6, DateTimeKind.Utc);
        user.PasswordResetLinksSent = 2;
        user.PasswordResetEventId = "reset-event-1";
        await Store.InsertAsync(user, Ct);
        await Store.InsertAsync(NewUser("sven"), Ct);

        var found = await Store.FindByPasswordResetTokenHashAsync("RESET-1", Ct);
        Assert.Equal(user.Id, found?.Id);
        Assert.Equal(user.PasswordResetExpiresAt, found!.PasswordResetExpiresAt?.ToUniversalTime());
        Assert.Equal((2, "reset-event-1"), (found.PasswordResetLinksSent, found.PasswordResetEventId));
        Assert.Null(await Store.FindByActivationTokenHashAsync("RESET-1", Ct));

        found.PasswordResetTokenHash = "RESET-2";
        found.PasswordResetUsedAt = new DateTime(2026, 1, 3, 5, 0, 0, DateTimeKind.Utc);
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(found, found.Version, Ct));
        Assert.Null(await Store.FindByPasswordResetTokenHashAsync("RESET-1", Ct));
        Assert.Equal(found.PasswordResetUsedAt, (await Store.FindByPasswordResetTokenHashAsync("RESET-2", Ct))!.PasswordResetUsedAt?.ToUniversalTime());

        found.DeletedAt = DateTime.UtcNow;
        found.NormalizedUserName = found.NormalizedEmail = found.UserNameSkeleton = $"#deleted:{found.Id}";
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(found, found.Version, Ct));
        Assert.Null(await Store.FindByPasswordResetTokenHashAsync("RESET-2", Ct));
    }

    [Fact]
    public async Task The_activation_token_hash_finds_the_live_account_until_the_token_is_replaced_or_the_account_deleted()
    {
        var user = NewUser("petra");
        user.State = AccountState.Pending;
        user.ActivationTokenHash = "HASH-1";
        user.ActivationTokenExpiresAt = new DateTime(2026, 1, 3, 4, 5, 6, DateTimeKind.Utc);
        user.ActivationEventId = "event-1";
        await Store.InsertAsync(user, Ct);
        await Store.InsertAsync(NewUser("quentin"), Ct);

        var found = await Store.FindByActivationTokenHashAsync("HASH-1", Ct);
        Assert.Equal(user.Id, found?.Id);
        Assert.True(found!.IsPending);
        Assert.Equal(user.ActivationTokenExpiresAt, found.ActivationTokenExpiresAt?.ToUniversalTime());
        Assert.Equal("event-1", found.ActivationEventId);

        found.ActivationTokenHash = "HASH-2";
        found.State = AccountState.Active;
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(found, found.Version, Ct));
        Assert.Null(await Store.FindByActivationTokenHashAsync("HASH-1", Ct));
        Assert.False((await Store.FindByActivationTokenHashAsync("HASH-2", Ct))!.IsPending);

        found.DeletedAt = DateTime.UtcNow;
        found.NormalizedUserName = found.NormalizedEmail = found.UserNameSkeleton = $"#deleted:{found.Id}";
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(found, found.Version, Ct));
        Assert.Null(await Store.FindByActivationTokenHashAsync("HASH-2", Ct));
    }

    [Fact]
    public async Task A_taken_user_name_skeleton_email_or_request_id_is_a_duplicate()
    {
        await Store.InsertAsync(NewUser("bob", "bob@example.test", "req-bob"), Ct);

        Assert.Equal(UserInsertResult.Duplicate, await Store.InsertAsync(NewUser("bob", "other@example.test"), Ct));
        Assert.Equal(UserInsertResult.Duplicate, await Store.InsertAsync(NewUser("b0b", "b0b@example.test"), Ct));
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
    public async Task Listing_pages_oldest_first_with_the_total_and_counts_admins()
    {
        var start = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < 5; i++)
        {
            var user = NewUser($"user{i}", createdAt: start.AddMinutes(4 - i));
            if (i < 2)
            {
                user.Roles = [Role.Admin, Role.User];
            }

            await Store.InsertAsync(user, Ct);
        }

        var (page, total) = await Store.ListAsync(1, 2, Ct);

        Assert.Equal(5, total);
        Assert.Equal(["user3", "user2"], page.Select(u => u.UserName));
        Assert.Equal(2, await Store.CountAdminsAsync(Ct));
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
        Assert.Equal(UserUpdateResult.Duplicate, await Store.UpdateAsync(dave, 0, Ct));
        Assert.Equal("dave@example.test", (await Store.FindByIdAsync(dave.Id, Ct))!.Email);

        dave.Email = "dave2@example.test";
        dave.NormalizedEmail = "DAVE2@EXAMPLE.TEST";
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(dave, 0, Ct));
        Assert.Equal(1, dave.Version);
        Assert.Equal("dave2@example.test", (await Store.FindByIdAsync(dave.Id, Ct))!.Email);
        Assert.Equal(UserUpdateResult.NotFound, await Store.UpdateAsync(NewUser("ghost"), 0, Ct));
    }

    [Fact]
    public async Task An_update_from_a_stale_read_is_a_conflict_and_changes_nothing()
    {
        var frank = NewUser("frank");
        await Store.InsertAsync(frank, Ct);
        var first = (await Store.FindByIdAsync(frank.Id, Ct))!;
        var second = (await Store.FindByIdAsync(frank.Id, Ct))!;

        first.Roles = [Role.Admin, Role.User];
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(first, first.Version, Ct));
        second.Email = "frank2@example.test";
        second.NormalizedEmail = "FRANK2@EXAMPLE.TEST";
        Assert.Equal(UserUpdateResult.Conflict, await Store.UpdateAsync(second, second.Version, Ct));

        var stored = (await Store.FindByIdAsync(frank.Id, Ct))!;
        Assert.Equal([Role.Admin, Role.User], stored.Roles);
        Assert.Equal("frank@example.test", stored.Email);
        Assert.Equal(1, stored.Version);
    }

    [Fact]
    public async Task Concurrent_read_modify_write_cycles_lose_no_update()
    {
        var grace = NewUser("grace");
        await Store.InsertAsync(grace, Ct);

        // Twelve writers each add their own request id, retrying when they lose a race: all twelve survive.
        await Task.WhenAll(Enumerable.Range(0, 12).Select(i => Task.Run(async () =>
        {
            while (true)
            {
                var user = (await Store.FindByIdAsync(grace.Id, Ct))!;
                user.Remember("writer", $"writer-{i}");
                if (await Store.UpdateAsync(user, user.Version, Ct) == UserUpdateResult.Updated)
                {
                    return;
                }
            }
        }, Ct)));

        var stored = (await Store.FindByIdAsync(grace.Id, Ct))!;
        Assert.Equal(12, stored.Version);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"writer:writer-{i}").Order(), stored.RecentRequestIds.Order());
    }

    [Fact]
    public async Task A_tombstone_is_invisible_to_every_read_but_its_own_and_frees_the_name()
    {
        var heidi = NewUser("heidi");
        await Store.InsertAsync(heidi, Ct);
        await Store.InsertRefreshTokenAsync(NewToken(heidi.Id, "family-heidi"), Ct);

        heidi.DeletedAt = DateTime.UtcNow;
        heidi.DeletionRequestId = "delete-heidi";
        heidi.NormalizedUserName = heidi.NormalizedEmail = heidi.UserNameSkeleton = $"#deleted:{heidi.Id}";
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(heidi, 0, Ct));
        await Store.DeleteSessionsOfUserAsync(heidi.Id, Ct);

        Assert.Null(await Store.FindByIdAsync(heidi.Id, Ct));
        Assert.Null(await Store.FindByRegistrationRequestIdAsync(heidi.RegistrationRequestId, Ct));
        Assert.Equal(0, (await Store.ListAsync(0, 10, Ct)).TotalCount);
        Assert.Equal("delete-heidi", (await Store.FindTombstoneAsync(heidi.Id, Ct))?.DeletionRequestId);
        Assert.Equal(UserInsertResult.Inserted, await Store.InsertAsync(NewUser("heidi"), Ct));
        Assert.Equal(UserUpdateResult.NotFound, await Store.UpdateAsync(heidi, 1, Ct));
    }

    [Fact]
    public async Task The_first_recorded_command_reply_wins()
    {
        await Store.SaveProcessedCommandAsync(new ProcessedCommand { Id = "cmd-1", Type = "users.delete", Fingerprint = "f", Reply = "first", ActorId = "a", At = DateTime.UtcNow }, Ct);
        await Store.SaveProcessedCommandAsync(new ProcessedCommand { Id = "cmd-1", Type = "users.delete", Fingerprint = "f", Reply = "second", ActorId = "b", At = DateTime.UtcNow }, Ct);

        var stored = await Store.FindProcessedCommandAsync("cmd-1", Ct);
        Assert.Equal(("first", "a"), (stored?.Reply, stored?.ActorId));
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
    public async Task Revoking_a_session_family_is_one_write_that_extending_does_not_undo()
    {
        var family = NewFamily("u1", "stamp");
        var other = NewFamily("u1", "stamp");
        await Store.InsertSessionFamilyAsync(family, Ct);
        await Store.InsertSessionFamilyAsync(other, Ct);

        await Task.WhenAll(
            Task.Run(() => Store.RevokeSessionFamilyAsync(family.Id, Ct), Ct),
            Task.Run(() => Store.ExtendSessionFamilyAsync(family.Id, DateTime.UtcNow.AddDays(30), Ct), Ct));

        Assert.Equal(SessionFamilyStatus.Revoked, (await Store.FindSessionFamilyAsync(family.Id, Ct))!.Status);
        Assert.Equal(SessionFamilyStatus.Active, (await Store.FindSessionFamilyAsync(other.Id, Ct))!.Status);
    }

    /// <summary>
    /// A thief and the victim present the same refresh token at once, while the victim also signs
    /// out: whatever the interleaving, no token of that session works afterwards.
    /// </summary>
    [Fact]
    public async Task No_interleaving_of_rotation_reuse_and_sign_out_leaves_a_live_token()
    {
        var user = NewUser("ivan");
        await Store.InsertAsync(user, Ct);
        var sessions = NewSessions();

        for (var round = 0; round < 15; round++)
        {
            var opened = await sessions.OpenAsync(user, Ct);
            var victim = Task.Run(() => sessions.RotateAsync(opened.RefreshToken, Ct), Ct);
            var thief = Task.Run(() => sessions.RotateAsync(opened.RefreshToken, Ct), Ct);
            var signOut = round % 3 == 0 ? Task.Run(() => sessions.RevokeAsync(opened.RefreshToken, user.Id, Ct), Ct) : Task.CompletedTask;
            await Task.WhenAll(victim, thief, signOut);

            foreach (var successor in new[] { await victim, await thief }.OfType<UserService.Contracts.UserSession>())
            {
                Assert.Null(await sessions.RotateAsync(successor.RefreshToken, Ct));
            }

            Assert.Null(await sessions.RotateAsync(opened.RefreshToken, Ct));
        }
    }

    /// <summary>A password change (a new stamp) racing a rotation: the session ends either way.</summary>
    [Fact]
    public async Task A_new_security_stamp_ends_sessions_opened_or_rotated_under_the_old_one()
    {
        var user = NewUser("judy");
        await Store.InsertAsync(user, Ct);
        var sessions = NewSessions();
        var opened = await sessions.OpenAsync(user, Ct);

        var changed = (await Store.FindByIdAsync(user.Id, Ct))!;
        var rotation = Task.Run(() => sessions.RotateAsync(opened.RefreshToken, Ct), Ct);
        changed.SecurityStamp = User.NewStamp();
        Assert.Equal(UserUpdateResult.Updated, await Store.UpdateAsync(changed, changed.Version, Ct));
        var successor = await rotation;

        if (successor is not null)
        {
            Assert.Null(await sessions.RotateAsync(successor.RefreshToken, Ct));
        }

        Assert.NotNull(await sessions.OpenAsync(changed, Ct));
    }

    [Fact]
    public async Task Accounts_stored_by_an_older_release_are_brought_up_to_date_and_can_be_changed()
    {
        static Dictionary<string, object> Legacy(string name, string[] roles) => new()
        {
            ["_id"] = Guid.CreateVersion7().ToString(),
            ["UserName"] = name,
            ["NormalizedUserName"] = name.ToUpperInvariant(),
            ["Email"] = $"{name}@example.test",
            ["NormalizedEmail"] = $"{name}@example.test".ToUpperInvariant(),
            ["PasswordHash"] = "hash",
            ["Roles"] = roles,
            ["CreatedAt"] = DateTime.UtcNow,
            ["UpdatedAt"] = DateTime.UtcNow,
            ["RegistrationRequestId"] = Guid.NewGuid().ToString(),
            ["IsBootstrapAdmin"] = false,
        };

        // Before versions, skeletons, stamps and the admin history: two names that look alike, an
        // admin, and a version written as a 32-bit number.
        var olga = Legacy("olga", [Role.Admin, Role.User]);
        var o1ga = Legacy("o1ga", [Role.User]);
        var oscar = Legacy("oscar", [Role.User]);
        oscar["Version"] = 3;
        var legacy = await CreateStoreOverAsync([olga, o1ga, oscar]);
        try
        {
            await legacy.InitializeAsync(Ct);

            var users = new List<User>();
            foreach (var document in new[] { olga, o1ga, oscar })
            {
                users.Add((await legacy.FindByIdAsync((string)document["_id"], Ct))!);
            }

            Assert.All(users, user => Assert.False(string.IsNullOrEmpty(user.SecurityStamp)));
            Assert.Equal(3, users.Select(user => user.SecurityStamp).Distinct().Count());
            Assert.Equal(3, users.Select(user => user.UserNameSkeleton).Distinct().Count());
            Assert.Contains(users, user => user.UserNameSkeleton == UserService.Contracts.UserRules.Skeleton("olga"));
            Assert.Equal([true, false, false], users.Select(user => user.HasBeenAdmin));
            Assert.Equal([0L, 0L, 3L], users.Select(user => user.Version));

            // A name that looks like one of them is taken; every account takes a conditional update.
            Assert.Equal(UserInsertResult.Duplicate, await legacy.InsertAsync(NewUser("0lga"), Ct));
            foreach (var user in users)
            {
                user.Email = $"new-{user.UserName}@example.test";
                user.NormalizedEmail = user.Email.ToUpperInvariant();
                Assert.Equal(UserUpdateResult.Updated, await legacy.UpdateAsync(user, user.Version, Ct));
            }

            Assert.Equal(4L, (await legacy.FindByIdAsync((string)oscar["_id"], Ct))!.Version);
        }
        finally
        {
            (legacy as IDisposable)?.Dispose();
        }
    }

    [Fact]
    public async Task Purging_removes_exactly_what_is_past_its_retention()
    {
        var now = DateTime.UtcNow;
        var expiredToken = NewToken("u", "f-old", now.AddMinutes(-1));
        var liveToken = NewToken("u", "f-new", now.AddDays(1));
        await Store.InsertRefreshTokenAsync(expiredToken, Ct);
        await Store.InsertRefreshTokenAsync(liveToken, Ct);
        var expiredFamily = NewFamily("u", "s", now.AddMinutes(-1));
        var liveFamily = NewFamily("u", "s", now.AddDays(1));
        await Store.InsertSessionFamilyAsync(expiredFamily, Ct);
        await Store.InsertSessionFamilyAsync(liveFamily, Ct);
        await Store.SaveProcessedCommandAsync(new ProcessedCommand { Id = "old", Type = "t", Fingerprint = "f", Reply = "r", At = now - ProcessedCommand.Retention - TimeSpan.FromMinutes(1) }, Ct);
        await Store.SaveProcessedCommandAsync(new ProcessedCommand { Id = "new", Type = "t", Fingerprint = "f", Reply = "r", At = now }, Ct);
        var gone = NewUser("kevin");
        await Store.InsertAsync(gone, Ct);
        gone.DeletedAt = now - ProcessedCommand.Retention - TimeSpan.FromMinutes(1);
        gone.NormalizedUserName = gone.NormalizedEmail = gone.UserNameSkeleton = $"#deleted:{gone.Id}";
        await Store.UpdateAsync(gone, 0, Ct);
        var alive = NewUser("laura");
        await Store.InsertAsync(alive, Ct);

        // Accounts never activated: removed when registered before the cut-off, kept after it; an old
        // active account (and one pending with no state, from before activation existed) is kept.
        var cutOff = now - TimeSpan.FromDays(7);
        var abandoned = NewUser("mallory", createdAt: cutOff - TimeSpan.FromMinutes(1));
        abandoned.State = AccountState.Pending;
        await Store.InsertAsync(abandoned, Ct);
        var recent = NewUser("nina", createdAt: cutOff + TimeSpan.FromMinutes(1));
        recent.State = AccountState.Pending;
        await Store.InsertAsync(recent, Ct);
        var oldActive = NewUser("oscar", createdAt: cutOff - TimeSpan.FromDays(30));
        oldActive.State = AccountState.Active;
        await Store.InsertAsync(oldActive, Ct);

        var purged = await Store.PurgeAsync(now, cutOff, Ct);

        Assert.Equal(new PurgeResult(1, 1, 1, 1, 1), purged);
        Assert.Null(await Store.FindByIdAsync(abandoned.Id, Ct));
        Assert.Null(await Store.FindByEmailAsync(abandoned.NormalizedEmail, Ct));
        Assert.NotNull(await Store.FindByIdAsync(recent.Id, Ct));
        Assert.NotNull(await Store.FindByIdAsync(oldActive.Id, Ct));
        Assert.Null(await Store.FindRefreshTokenAsync(expiredToken.Id, Ct));
        Assert.NotNull(await Store.FindRefreshTokenAsync(liveToken.Id, Ct));
        Assert.Null(await Store.FindSessionFamilyAsync(expiredFamily.Id, Ct));
        Assert.NotNull(await Store.FindSessionFamilyAsync(liveFamily.Id, Ct));
        Assert.Null(await Store.FindProcessedCommandAsync("old", Ct));
        Assert.NotNull(await Store.FindProcessedCommandAsync("new", Ct));
        Assert.Null(await Store.FindTombstoneAsync(gone.Id, Ct));
        Assert.NotNull(await Store.FindByIdAsync(alive.Id, Ct));
    }
}

/// <summary>The contract on LiteDB, in a fresh file per test.</summary>
public sealed class LiteDbUserStoreContractTests : UserStoreContractTests
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));

    private string ConnectionString => $"Filename={Path.Combine(_directory, "users.db")};Connection=shared";

    protected override Task<IUserStore> CreateStoreAsync() =>
        Task.FromResult<IUserStore>(new LiteDbUserStore(ConnectionString));

    protected override Task InsertWithoutActivationFieldsAsync(User user)
    {
        using var database = new LiteDB.LiteDatabase(ConnectionString);
        var document = LiteDB.BsonMapper.Global.ToDocument(user);
        foreach (var field in ActivationFields.Append(nameof(User.IsAdmin)).Append(nameof(User.IsPending)).Append(nameof(User.CurrentStamp)))
        {
            document.Remove(field);
        }

        database.GetCollection("users").Insert(document);
        return Task.CompletedTask;
    }

    protected override Task<IUserStore> CreateStoreOverAsync(IReadOnlyList<Dictionary<string, object>> documents)
    {
        var connectionString = $"Filename={Path.Combine(_directory, $"legacy-{Guid.NewGuid():N}.db")};Connection=shared";
        using (var database = new LiteDB.LiteDatabase(connectionString))
        {
            var users = database.GetCollection("users");
            foreach (var fields in documents)
            {
                var document = new LiteDB.BsonDocument();
                foreach (var (name, value) in fields)
                {
                    document[name] = value switch
                    {
                        string[] items => new LiteDB.BsonArray(items.Select(item => new LiteDB.BsonValue(item))),
                        _ => new LiteDB.BsonValue(value),
                    };
                }

                users.Insert(document);
            }
        }

        return Task.FromResult<IUserStore>(new LiteDbUserStore(connectionString));
    }

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

    protected override async Task<IUserStore> CreateStoreOverAsync(IReadOnlyList<Dictionary<string, object>> documents)
    {
        var database = _client!.GetDatabase(_database + "_legacy");
        await database.GetCollection<MongoDB.Bson.BsonDocument>("users").InsertManyAsync(documents.Select(fields => new MongoDB.Bson.BsonDocument(fields)), cancellationToken: Ct);
        return new MongoUserStore(database);
    }

    protected override async Task InsertWithoutActivationFieldsAsync(User user)
    {
        var document = user.ToBsonDocument();
        foreach (var field in ActivationFields)
        {
            document.Remove(field);
        }

        await _client!.GetDatabase(_database).GetCollection<BsonDocument>("users").InsertOneAsync(document, cancellationToken: Ct);
    }

    protected override async ValueTask CleanUpAsync()
    {
        if (_client is not null && _database is not null)
        {
            await _client.DropDatabaseAsync(_database);
            await _client.DropDatabaseAsync(_database + "_legacy");
            _client.Dispose();
        }
    }
}
