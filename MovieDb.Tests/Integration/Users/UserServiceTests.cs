using System.Net;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using UserService;

namespace MovieDb.Tests.Integration.Users;

/// <summary>The user service's handlers, through the real broker, with the user store on LiteDB.</summary>
public sealed class UserServiceTests(TestServers servers)
{
    private static readonly Actor Admin = new("admin-id", IsAdmin: true);

    private static RegisterUser NewRegistration(string? name = null) =>
        new(name ?? $"user{Guid.NewGuid():N}"[..16], $"{name ?? Guid.NewGuid().ToString("N")[..12]}@example.test", "s3cret-passw0rd");

    [Fact]
    public async Task A_registration_creates_a_user_account_with_the_user_role()
    {
        await using var host = await UserServiceHost.StartAsync(servers);

        var reply = await host.SendAsync(new RegisterUser("Amélie.P", "amelie@example.test", "s3cret-passw0rd"));

        Assert.Equal(ReplyStatus.Ok, reply.Status);
        var user = reply.Value!;
        Assert.Equal(("Amélie.P", "amelie@example.test"), (user.UserName, user.Email));
        var fetched = (await host.SendAsync(new GetUser(user.Id))).Value!;
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
        var page = await host.SendAsync(new ListUsers(1, 100));
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

    [Fact]
    public async Task Registration_status_is_pending_then_succeeded_or_failed()
    {
        await using var host = await UserServiceHost.StartAsync(servers);

        var unknown = await host.SendAsync(new GetRegistrationStatus("never-sent"));
        var created = await host.SendAsync(NewRegistration("status"), requestId: "status-ok");
        var refused = await host.SendAsync(new RegisterUser("status", "x@example.test", "s3cret-passw0rd"), requestId: "status-conflict");
        var succeeded = await host.SendAsync(new GetRegistrationStatus("status-ok"));
        var failed = await host.SendAsync(new GetRegistrationStatus("status-conflict"));

        Assert.Equal(RegistrationStatus.Pending, unknown.Value!.Status);
        Assert.Equal(RegistrationStatus.Succeeded, succeeded.Value!.Status);
        Assert.Equal(created.Value!.Id, succeeded.Value.User!.Id);
        Assert.Equal(RegistrationStatus.Failed, failed.Value!.Status);
        Assert.Equal(refused.Error, failed.Value.Problem);
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
    public async Task Signing_out_revokes_the_session()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        await host.SendAsync(new RegisterUser("leaver", "leaver@example.test", "s3cret-passw0rd"));
        var session = (await host.SendAsync(new AuthenticateUser("leaver", "s3cret-passw0rd"))).Value!;

        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession(session.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(session.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession("unknown-token"))).Status);
    }

    [Fact]
    public async Task A_user_may_change_their_email_and_password_but_not_roles_and_a_new_password_ends_sessions()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var user = (await host.SendAsync(new RegisterUser("changer", "changer@example.test", "s3cret-passw0rd"))).Value!;
        var self = new Actor(user.Id, IsAdmin: false);
        var session = (await host.SendAsync(new AuthenticateUser("changer", "s3cret-passw0rd"))).Value!;

        var email = await host.SendAsync(new UpdateUser(self, user.Id, Email: "new@example.test"));
        var noCurrent = await host.SendAsync(new UpdateUser(self, user.Id, NewPassword: "an0ther-passw0rd"));
        var password = await host.SendAsync(new UpdateUser(self, user.Id, NewPassword: "an0ther-passw0rd", CurrentPassword: "s3cret-passw0rd"));
        var roles = await host.SendAsync(new UpdateUser(self, user.Id, Roles: ["admin"]));
        var other = await host.SendAsync(new UpdateUser(self, "someone-else", Email: "x@example.test"));

        Assert.Equal("new@example.test", email.Value!.Email);
        Assert.Equal(ReplyStatus.Invalid, noCurrent.Status);
        Assert.Contains("currentPassword", noCurrent.Error!.Errors!.Keys);
        Assert.Equal(ReplyStatus.Ok, password.Status);
        Assert.Equal(ReplyStatus.Forbidden, roles.Status);
        Assert.Equal(ReplyStatus.Forbidden, other.Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new AuthenticateUser("changer", "an0ther-passw0rd"))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(session.RefreshToken))).Status);
    }

    [Fact]
    public async Task An_admin_may_change_roles_and_the_email_uniqueness_holds_on_update()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var first = (await host.SendAsync(new RegisterUser("first", "first@example.test", "s3cret-passw0rd"))).Value!;
        await host.SendAsync(new RegisterUser("second", "second@example.test", "s3cret-passw0rd"));

        var promoted = await host.SendAsync(new UpdateUser(Admin, first.Id, Roles: ["user", "admin"]));
        var unknownRole = await host.SendAsync(new UpdateUser(Admin, first.Id, Roles: ["root"]));
        var taken = await host.SendAsync(new UpdateUser(Admin, first.Id, Email: "second@example.test"));

        Assert.Equal(["user", "admin"], promoted.Value!.Roles);
        Assert.Equal(ReplyStatus.Invalid, unknownRole.Status);
        Assert.Equal(ReplyStatus.Conflict, taken.Status);
    }

    [Fact]
    public async Task Deleting_a_user_publishes_user_deleted_and_the_bootstrap_admin_cannot_be_deleted()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var doomed = (await host.SendAsync(new RegisterUser("doomed", "doomed@example.test", "s3cret-passw0rd"))).Value!;

        var notAdmin = await host.SendAsync(new DeleteUser(new Actor(doomed.Id, false), doomed.Id));
        var deleted = await host.SendAsync(new DeleteUser(Admin, doomed.Id));
        var again = await host.SendAsync(new DeleteUser(Admin, doomed.Id));

        Assert.Equal(ReplyStatus.Forbidden, notAdmin.Status);
        Assert.Equal(ReplyStatus.Ok, deleted.Status);
        Assert.Equal(ReplyStatus.NotFound, again.Status);
        Assert.Equal(ReplyStatus.NotFound, (await host.SendAsync(new GetUser(doomed.Id))).Status);
        await Wait.UntilAsync(() => host.Events.Events.Any(e => e.UserId == doomed.Id), "user.deleted arrives");

        var admin = (await host.SendAsync(new AuthenticateUser("admin", UserServiceHost.AdminPassword))).Value!.User;
        Assert.Contains("admin", admin.Roles);
        var protectedAdmin = await host.SendAsync(new DeleteUser(Admin, admin.Id));
        Assert.Equal(ReplyStatus.Conflict, protectedAdmin.Status);
    }

    [Fact]
    public async Task No_reply_ever_carries_a_password_hash()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var user = (await host.SendAsync(new RegisterUser("hashless", "hashless@example.test", "s3cret-passw0rd"))).Value!;

        string[] replies =
        [
            await host.SendRawAsync(new RegisterUser("hashless2", "hashless2@example.test", "s3cret-passw0rd")),
            await host.SendRawAsync(new AuthenticateUser("hashless", "s3cret-passw0rd")),
            await host.SendRawAsync(new GetUser(user.Id)),
            await host.SendRawAsync(new ListUsers(1, 50)),
            await host.SendRawAsync(new UpdateUser(Admin, user.Id, Email: "hashless3@example.test")),
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
}
