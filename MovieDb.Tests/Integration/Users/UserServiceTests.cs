using System.Net;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using UserService;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Users;

/// <summary>The user service's handlers, through the real broker, with the user store on LiteDB.</summary>
public sealed class UserServiceTests(TestServers servers)
{
    private static RegisterUser NewRegistration(string? name = null) =>
        new(name ?? $"user{Guid.NewGuid():N}"[..16], $"{name ?? Guid.NewGuid().ToString("N")[..12]}@example.test", "s3cret-passw0rd");

    [Fact]
    public async Task A_registration_creates_a_user_account_with_the_user_role()
    {
        await using var host = await UserServiceHost.StartAsync(servers);

        var reply = await host.SendAsync(new RegisterUser("Amelie.P", "amelie@example.test", "s3cret-passw0rd"));

        Assert.Equal(ReplyStatus.Ok, reply.Status);
        var user = reply.Value!;
        Assert.Equal(("Amelie.P", "amelie@example.test"), (user.UserName, user.Email));
        var self = await host.SignInAsync("amelie.p", "s3cret-passw0rd");
        var fetched = (await host.SendAsync(new GetUser(self, user.Id))).Value!;
        Assert.Equal((user.Id, user.UserName, user.Email, user.CreatedAt), (fetched.Id, fetched.UserName, fetched.Email, fetched.CreatedAt));
        Assert.Equal(["user"], fetched.Roles);
    }

    [Fact]
    public async Task The_same_registration_sent_twice_creates_one_account_and_both_replies_carry_it()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var registration = NewRegistration("twice");

        var first = await host.SendAsync(registration, requestId: "registration-twice");
        var second = await host.SendAsync(registration, requestId: "registration-twice");

        Assert.Equal(ReplyStatus.Ok, first.Status);
        Assert.Equal(ReplyStatus.Ok, second.Status);
        Assert.Equal(first.Value!.Id, second.Value!.Id);
        var page = await host.SendAsync(new ListUsers(await host.AdminAsync(), 1, 100));
        Assert.Single(page.Value!.Items, u => u.UserName == "twice");
    }

    [Fact]
    public async Task The_same_request_id_with_a_different_registration_is_refused()
    {
        await using var host = await UserServiceHost.StartAsync(servers);

        await host.SendAsync(NewRegistration("first"), requestId: "reused-key");
        var reply = await host.SendAsync(NewRegistration("second"), requestId: "reused-key");

        Assert.Equal(ReplyStatus.Conflict, reply.Status);
        Assert.Equal("Request id reused", reply.Error!.Title);

        // Past the command record's retention the account itself tells: another registration under
        // the key is refused, not answered with the first one's account.
        await host.Store.PurgeAsync(DateTime.UtcNow + UserService.Model.ProcessedCommand.Retention + TimeSpan.FromMinutes(1), DateTime.MinValue, TestContext.Current.CancellationToken);
        var afterPurge = await host.SendAsync(NewRegistration("third"), requestId: "reused-key");
        Assert.Equal(ReplyStatus.Conflict, afterPurge.Status);
        Assert.Null(afterPurge.Value);
    }

    [Fact]
    public async Task A_taken_user_name_or_email_is_a_conflict_and_invalid_fields_are_named()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        await host.SendAsync(new RegisterUser("taken", "taken@example.test", "s3cret-passw0rd"));

        var sameName = await host.SendAsync(new RegisterUser("TAKEN", "other@example.test", "s3cret-passw0rd"));
        var sameEmail = await host.SendAsync(new RegisterUser("other", "Taken@Example.test", "s3cret-passw0rd"));
        var adminName = await host.SendAsync(new RegisterUser("Admin", "not-admin@example.test", "s3cret-passw0rd"));
        var invalid = await host.SendAsync(new RegisterUser("a b", "not-an-email", "short"));

        Assert.Equal(ReplyStatus.Conflict, sameName.Status);
        Assert.Equal(ReplyStatus.Conflict, sameEmail.Status);
        Assert.Equal(ReplyStatus.Conflict, adminName.Status);
        Assert.Equal(sameName.Error, sameEmail.Error);
        Assert.Equal(ReplyStatus.Invalid, invalid.Status);
        Assert.Equal(["email", "password", "userName"], invalid.Error!.Errors!.Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>No name may be registered that displays like an existing or a reserved one.</summary>
    [Theory]
    [InlineData("\u0430dmin", ReplyStatus.Invalid)] // Cyrillic а
    [InlineData("admin\u034F", ReplyStatus.Invalid)] // combining grapheme joiner: invisible
    [InlineData("\uFF41\uFF44\uFF4D\uFF49\uFF4E", ReplyStatus.Invalid)] // full-width letters
    [InlineData("adm1n", ReplyStatus.Conflict)] // 1 looks like i
    [InlineData("ADMlN", ReplyStatus.Conflict)] // l looks like I
    [InlineData("adrnin", ReplyStatus.Conflict)] // rn looks like m
    [InlineData("r00t", ReplyStatus.Conflict)] // reserved, with zeros
    [InlineData("vvalter", ReplyStatus.Conflict)] // vv looks like w: "walter" exists
    [InlineData("wa1ter", ReplyStatus.Conflict)]
    public async Task Names_that_look_like_an_existing_or_reserved_one_cannot_be_registered(string name, ReplyStatus expected)
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RegisterUser("walter", "walter@example.test", "s3cret-passw0rd"))).Status);

        var reply = await host.SendAsync(new RegisterUser(name, $"{Guid.NewGuid():N}@example.test", "s3cret-passw0rd"));

        Assert.Equal(expected, reply.Status);
    }

    [Fact]
    public async Task Registration_status_is_pending_then_succeeded_or_failed()
    {
        await using var host = await UserServiceHost.StartAsync(servers);

        var unknown = await host.SendAsync(new GetRegistrationStatus("never-sent"));
        var created = await host.SendAsync(NewRegistration("status"), requestId: "status-ok");
        var refused = await host.SendAsync(new RegisterUser("status", "x@example.test", "s3cret-passw0rd"), requestId: "status-conflict");
        var succeeded = await host.SendAsync(new GetRegistrationStatus("status-ok"));
        var failed = await host.SendAsync(new GetRegistrationStatus("status-conflict"));

        Assert.Equal(CommandStatus.Pending, unknown.Value!.Status);
        Assert.Equal(CommandStatus.Succeeded, succeeded.Value!.Status);
        Assert.Equal(created.Value!.Id, succeeded.Value.User!.Id);
        Assert.Equal(CommandStatus.Failed, failed.Value!.Status);
        Assert.Equal(refused.Error, failed.Value.Problem);
    }

    [Fact]
    public async Task A_command_status_is_told_only_to_the_account_that_sent_it()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (user, self) = await host.NewUserAsync("teller");
        var (_, stranger) = await host.NewUserAsync("stranger");

        await host.SendAsync(new UpdateUser(self, user.Id, Email: "teller2@example.test", CurrentPassword: "s3cret-passw0rd"), requestId: "teller-update-1");
        var mine = await host.SendAsync(new GetCommandStatus(self, "teller-update-1"));
        var theirs = await host.SendAsync(new GetCommandStatus(stranger, "teller-update-1"));
        var unknown = await host.SendAsync(new GetCommandStatus(self, "never-sent-at-all"));

        Assert.Equal(CommandStatus.Succeeded, mine.Value!.Status);
        Assert.Equal("teller2@example.test", mine.Value.User!.Email);
        Assert.Equal(CommandStatus.Pending, theirs.Value!.Status);
        Assert.Null(theirs.Value.User);
        Assert.Equal(CommandStatus.Pending, unknown.Value!.Status);
    }

    [Fact]
    public async Task Sign_in_answers_the_same_for_a_wrong_password_and_an_unknown_user()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        await host.SendAsync(new RegisterUser("signin", "signin@example.test", "s3cret-passw0rd"));

        var ok = await host.SendAsync(new AuthenticateUser("SignIn", "s3cret-passw0rd"));
        var wrongPassword = await host.SendAsync(new AuthenticateUser("signin", "wrong-password"));
        var unknownUser = await host.SendAsync(new AuthenticateUser("nobody-here", "wrong-password"));

        Assert.Equal(ReplyStatus.Ok, ok.Status);
        Assert.Equal("signin", ok.Value!.User.UserName);
        Assert.True(ok.Value.RefreshToken.Length >= 43);
        Assert.Equal(ReplyStatus.Unauthorized, wrongPassword.Status);
        Assert.Equal(wrongPassword, unknownUser);
    }

    [Fact]
    public async Task A_refresh_token_rotates_and_reusing_a_rotated_token_revokes_the_family()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        await host.SendAsync(new RegisterUser("rotator", "rotator@example.test", "s3cret-passw0rd"));
        var session = (await host.SendAsync(new AuthenticateUser("rotator", "s3cret-passw0rd"))).Value!;
        var otherSession = (await host.SendAsync(new AuthenticateUser("rotator", "s3cret-passw0rd"))).Value!;

        var rotated = await host.SendAsync(new RefreshSession(session.RefreshToken));
        Assert.Equal(ReplyStatus.Ok, rotated.Status);
        Assert.NotEqual(session.RefreshToken, rotated.Value!.RefreshToken);

        // The old token again: reuse. It fails, and so does the token that replaced it.
        var reuse = await host.SendAsync(new RefreshSession(session.RefreshToken));
        var afterReuse = await host.SendAsync(new RefreshSession(rotated.Value.RefreshToken));
        Assert.Equal(ReplyStatus.Unauthorized, reuse.Status);
        Assert.Equal(ReplyStatus.Unauthorized, afterReuse.Status);

        // Another sign-in (another family) is untouched.
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RefreshSession(otherSession.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession("not-a-token"))).Status);
    }

    [Fact]
    public async Task Signing_out_revokes_the_session_but_only_the_callers_own()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (_, leaver) = await host.NewUserAsync("leaver");
        var (_, other) = await host.NewUserAsync("other");
        var session = (await host.SendAsync(new AuthenticateUser("leaver", "s3cret-passw0rd"))).Value!;

        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession(other, session.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RefreshSession(session.RefreshToken))).Status);

        var again = (await host.SendAsync(new AuthenticateUser("leaver", "s3cret-passw0rd"))).Value!;
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession(leaver, again.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(again.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession(leaver, "unknown-token"))).Status);
    }

    [Fact]
    public async Task A_user_may_change_their_email_and_password_with_the_current_one_but_not_roles_and_a_new_password_ends_sessions()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (user, self) = await host.NewUserAsync("changer");
        var session = (await host.SendAsync(new AuthenticateUser("changer", "s3cret-passw0rd"))).Value!;

        var noCurrentForEmail = await host.SendAsync(new UpdateUser(self, user.Id, Email: "new@example.test"));
        var email = await host.SendAsync(new UpdateUser(self, user.Id, Email: "new@example.test", CurrentPassword: "s3cret-passw0rd"));
        var noCurrent = await host.SendAsync(new UpdateUser(self, user.Id, NewPassword: "an0ther-passw0rd"));
        var roles = await host.SendAsync(new UpdateUser(self, user.Id, Roles: ["admin"]));
        var other = await host.SendAsync(new UpdateUser(self, Guid.NewGuid().ToString(), Email: "x@example.test"));
        var password = await host.SendAsync(new UpdateUser(self, user.Id, NewPassword: "an0ther-passw0rd", CurrentPassword: "s3cret-passw0rd"));

        Assert.Equal(ReplyStatus.Invalid, noCurrentForEmail.Status);
        Assert.Equal("new@example.test", email.Value!.Email);
        Assert.Equal(ReplyStatus.Invalid, noCurrent.Status);
        Assert.Contains("currentPassword", noCurrent.Error!.Errors!.Keys);
        Assert.Equal(ReplyStatus.Forbidden, roles.Status);
        Assert.Equal(ReplyStatus.Forbidden, other.Status);
        Assert.Equal(ReplyStatus.Ok, password.Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new AuthenticateUser("changer", "an0ther-passw0rd"))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(session.RefreshToken))).Status);

        // The caller's own stamp changed with the password: the old one no longer speaks for it.
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new GetUser(self, user.Id))).Status);
    }

    [Fact]
    public async Task A_request_id_replayed_by_another_caller_finds_nothing_and_is_decided_afresh()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var (erin, _) = await host.NewUserAsync("erin");
        var (_, stranger) = await host.NewUserAsync("stranger");
        var changed = await host.SendAsync(new UpdateUser(admin, erin.Id, Email: "erin.new@example.test"), requestId: "known-request-id");
        Assert.Equal(ReplyStatus.Ok, changed.Status);

        // The same request id from someone else is not a redelivery: no copy of the admin's answer
        // (with erin's account in it). While the command record is kept, the id is simply taken.
        var replayed = await host.SendAsync(new UpdateUser(stranger, erin.Id, Email: "stolen@example.test"), requestId: "known-request-id");
        Assert.Equal(ReplyStatus.Conflict, replayed.Status);
        Assert.Null(replayed.Value);

        // Once the record is purged, the account still remembers the id — as the admin's, so the
        // stranger's command is decided afresh, and refused.
        var later = DateTime.UtcNow + UserService.Model.ProcessedCommand.Retention + TimeSpan.FromMinutes(1);
        await host.Store.PurgeAsync(later, DateTime.MinValue, TestContext.Current.CancellationToken);
        var afterPurge = await host.SendAsync(new UpdateUser(stranger, erin.Id, Email: "stolen@example.test"), requestId: "known-request-id");
        await host.Store.PurgeAsync(later, DateTime.MinValue, TestContext.Current.CancellationToken);
        var deleteReplayed = await host.SendAsync(new DeleteUser(stranger, erin.Id), requestId: "known-request-id");

        Assert.Equal(ReplyStatus.Forbidden, afterPurge.Status);
        Assert.Null(afterPurge.Value);
        Assert.Equal(ReplyStatus.Forbidden, deleteReplayed.Status);
        Assert.Equal("erin.new@example.test", (await host.SendAsync(new GetUser(admin, erin.Id))).Value!.Email);
    }

    [Fact]
    public async Task An_admin_may_change_roles_and_the_email_uniqueness_holds_on_update()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var first = (await host.SendAsync(new RegisterUser("first", "first@example.test", "s3cret-passw0rd"))).Value!;
        await host.SendAsync(new RegisterUser("second", "second@example.test", "s3cret-passw0rd"));

        var unknownRole = await host.SendAsync(new UpdateUser(admin, first.Id, Roles: ["root"]));
        var taken = await host.SendAsync(new UpdateUser(admin, first.Id, Email: "second@example.test"));
        var promoted = await host.SendAsync(new UpdateUser(admin, first.Id, Roles: ["user", "admin"]));

        Assert.Equal(ReplyStatus.Invalid, unknownRole.Status);
        Assert.Equal(ReplyStatus.Conflict, taken.Status);
        Assert.Equal(["admin", "user"], promoted.Value!.Roles);
    }

    [Fact]
    public async Task A_demoted_admin_loses_admin_rights_at_once_even_with_the_stamp_it_had()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var (carol, _) = await host.NewUserAsync("carol");
        await host.SendAsync(new UpdateUser(admin, carol.Id, Roles: ["admin", "user"]));
        var carolAsAdmin = await host.SignInAsync("carol", "s3cret-passw0rd");
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new ListUsers(carolAsAdmin, 1, 10))).Status);

        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new UpdateUser(admin, carol.Id, Roles: ["user"]))).Status);

        // With the stamp of before the demotion: refused outright. Signed in again: a user, no more.
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new ListUsers(carolAsAdmin, 1, 10))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new UpdateUser(carolAsAdmin, carol.Id, Roles: ["admin", "user"]))).Status);
        var carolNow = await host.SignInAsync("carol", "s3cret-passw0rd");
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new ListUsers(carolNow, 1, 10))).Status);
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new UpdateUser(carolNow, carol.Id, Roles: ["admin", "user"]))).Status);
    }

    [Fact]
    public async Task Admins_are_protected_from_each_other_and_the_bootstrap_admin_from_everyone()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var bootstrap = await host.AdminAsync();
        var (dave, _) = await host.NewUserAsync("dave");
        var (erin, _) = await host.NewUserAsync("erin");
        await host.SendAsync(new UpdateUser(bootstrap, dave.Id, Roles: ["admin", "user"]));
        var daveAdmin = await host.SignInAsync("dave", "s3cret-passw0rd");

        // Another admin's password or e-mail: only that admin. A user's: any admin (a reset).
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new UpdateUser(daveAdmin, bootstrap.UserId, NewPassword: "t4keover-passw0rd"))).Status);
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new UpdateUser(daveAdmin, bootstrap.UserId, Email: "dave@evil.test"))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new UpdateUser(daveAdmin, erin.Id, NewPassword: "r3set-passw0rd"))).Status);

        // The bootstrap admin is neither demoted nor deleted, by anyone.
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new UpdateUser(daveAdmin, bootstrap.UserId, Roles: ["user"]))).Status);
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new UpdateUser(bootstrap, bootstrap.UserId, Roles: ["user"]))).Status);
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new DeleteUser(daveAdmin, bootstrap.UserId))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new AuthenticateUser("admin", UserServiceHost.AdminPassword))).Status);

        // The account itself changes its own e-mail, with its password.
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new UpdateUser(daveAdmin, dave.Id, Email: "dave2@example.test", CurrentPassword: "s3cret-passw0rd"))).Status);
    }

    [Fact]
    public async Task Signing_out_everywhere_ends_every_session_and_stamp()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (user, self) = await host.NewUserAsync("everywhere");
        var one = (await host.SendAsync(new AuthenticateUser("everywhere", "s3cret-passw0rd"))).Value!;
        var (_, stranger) = await host.NewUserAsync("nosy");

        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new RevokeAllSessions(stranger, user.Id))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeAllSessions(self, user.Id))).Status);

        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(one.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new GetUser(self, user.Id))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new GetUser(await host.SignInAsync("everywhere", "s3cret-passw0rd"), user.Id))).Status);
    }

    [Fact]
    public async Task Deleting_a_user_publishes_user_deleted_and_the_bootstrap_admin_cannot_be_deleted()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var (doomed, doomedActor) = await host.NewUserAsync("doomed");

        var notAdmin = await host.SendAsync(new DeleteUser(doomedActor, doomed.Id));
        var deleted = await host.SendAsync(new DeleteUser(admin, doomed.Id));
        var again = await host.SendAsync(new DeleteUser(admin, doomed.Id));

        Assert.Equal(ReplyStatus.Forbidden, notAdmin.Status);
        Assert.Equal(ReplyStatus.Ok, deleted.Status);
        Assert.Equal(ReplyStatus.NotFound, again.Status);
        Assert.Equal(ReplyStatus.NotFound, (await host.SendAsync(new GetUser(admin, doomed.Id))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new AuthenticateUser("doomed", "s3cret-passw0rd"))).Status);
        await Wait.UntilAsync(() => host.Events.Events.Any(e => e.UserId == doomed.Id), "user.deleted arrives");

        // The name is free again once the account is gone.
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RegisterUser("doomed", "doomed@example.test", "s3cret-passw0rd"))).Status);
        Assert.Equal(ReplyStatus.Forbidden, (await host.SendAsync(new DeleteUser(admin, admin.UserId))).Status);
    }

    [Fact]
    public async Task No_reply_ever_carries_a_password_hash()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var user = (await host.SendAsync(new RegisterUser("hashless", "hashless@example.test", "s3cret-passw0rd"))).Value!;

        string[] replies =
        [
            await host.SendRawAsync(new RegisterUser("hashless2", "hashless2@example.test", "s3cret-passw0rd")),
            await host.SendRawAsync(new AuthenticateUser("hashless", "s3cret-passw0rd")),
            await host.SendRawAsync(new GetUser(admin, user.Id)),
            await host.SendRawAsync(new ListUsers(admin, 1, 50)),
            await host.SendRawAsync(new GetSecurityState(user.Id)),
            await host.SendRawAsync(new UpdateUser(admin, user.Id, Email: "hashless3@example.test")),
        ];

        foreach (var reply in replies)
        {
            Assert.Contains("\"status\":\"ok\"", reply, StringComparison.Ordinal);
            Assert.DoesNotContain("passwordHash", reply, StringComparison.OrdinalIgnoreCase);

            // ASP.NET Core's V3 password hashes start with 0x01 and encode to "AQAAAA…".
            Assert.DoesNotContain("AQAAAA", reply, StringComparison.Ordinal);
            Assert.DoesNotContain("s3cret-passw0rd", reply, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Health_is_ready_with_broker_and_store_and_liveness_is_up()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        using var client = host.Service.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public void Outside_Development_a_missing_admin_password_stops_start_up_with_a_clear_message()
    {
        var settings = UserServiceHost.Settings("amqp://guest:guest@127.0.0.1:5672/", Path.GetTempPath());
        settings.Remove("Admin:Password");
        using var factory = new ServiceFactory<UserServiceApp>(settings, "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("Admin:Password", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Messaging:SigningKey", "Development")]
    [InlineData("Messaging:SigningKey", "Production")]
    [InlineData("Messaging:EventSigningKey", "Development")]
    [InlineData("Messaging:EventSigningKey", "Production")]
    public void Without_a_key_it_shares_with_other_services_the_user_service_refuses_to_start_in_every_environment(string key, string environment)
    {
        var settings = UserServiceHost.Settings("amqp://guest:guest@127.0.0.1:5672/", Path.GetTempPath());
        settings.Remove(key);
        using var factory = new ServiceFactory<UserServiceApp>(settings, environment);

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains($"{key} is not set", error.ToString(), StringComparison.Ordinal);
    }
}
