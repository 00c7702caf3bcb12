using MovieDb.Messaging;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using UserService.Contracts;
using UserService.Features.AccountChanges;
using UserService.Features.Deletion;
using UserService.Features.SignIn;

namespace MovieDb.Tests.Integration.Users;

/// <summary>
/// Every command, redelivered after the first delivery stopped at any point, gives the answer the
/// first would have given and leaves the same end state. A command is redelivered when the service
/// dies before acknowledging it; the window that matters is after its change was stored and before
/// its reply was recorded — simulated here by running the operation again without the inbox (what a
/// redelivery finds when the reply was never recorded), or by letting the first run fail where it
/// publishes its event.
/// </summary>
public sealed class CommandCrashPointTests(TestServers servers)
{
    private const string Password = "s3cret-passw0rd";

    [Fact]
    public async Task A_password_change_redelivered_after_it_was_stored_answers_ok_again_and_the_old_sessions_stay_ended()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (user, self) = await host.NewUserAsync("crashy");
        var session = (await host.SendAsync(new AuthenticateUser("crashy", Password))).Value!;
        var change = new UpdateUser(self, user.Id, NewPassword: "an0ther-passw0rd", CurrentPassword: Password);

        var first = await host.WithFeatureAsync<AccountChangeRequests, Reply<UserDto>>(feature => feature.UpdateAsync("change-1", change, TestContext.Current.CancellationToken));
        var redelivered = await host.WithFeatureAsync<AccountChangeRequests, Reply<UserDto>>(feature => feature.UpdateAsync("change-1", change, TestContext.Current.CancellationToken));

        Assert.Equal(ReplyStatus.Ok, first.Status);
        Assert.Equal(System.Text.Encoding.UTF8.GetString(MessageSerializer.Serialize(first)), System.Text.Encoding.UTF8.GetString(MessageSerializer.Serialize(redelivered)));
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(session.RefreshToken))).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new GetUser(self, user.Id))).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new AuthenticateUser("crashy", "an0ther-passw0rd"))).Status);
    }

    [Fact]
    public async Task A_deletion_redelivered_after_the_tombstone_was_written_answers_ok_again_and_the_event_goes_out()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var (user, _) = await host.NewUserAsync("goner");
        var delete = new DeleteUser(admin, user.Id);

        var first = await host.WithFeatureAsync<DeletionRequests, Reply<Empty>>(feature => feature.DeleteAsync("delete-1", delete, TestContext.Current.CancellationToken));
        var redelivered = await host.WithFeatureAsync<DeletionRequests, Reply<Empty>>(feature => feature.DeleteAsync("delete-1", delete, TestContext.Current.CancellationToken));
        var another = await host.WithFeatureAsync<DeletionRequests, Reply<Empty>>(feature => feature.DeleteAsync("delete-2", delete, TestContext.Current.CancellationToken));

        Assert.Equal(ReplyStatus.Ok, first.Status);
        Assert.Equal(ReplyStatus.Ok, redelivered.Status);
        Assert.Equal(ReplyStatus.NotFound, another.Status);
        await Wait.UntilAsync(() => host.Events.Events.Count(e => e.UserId == user.Id) >= 2, "user.deleted goes out with each delivery");
    }

    [Fact]
    public async Task A_deletion_that_died_before_its_event_went_out_sends_it_when_redelivered()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var (user, _) = await host.NewUserAsync("halfway");
        var delete = new DeleteUser(admin, user.Id);
        var ct = TestContext.Current.CancellationToken;

        // The broker refuses user.deleted for now: the first delivery stores the tombstone and then fails.
        await using (var connection = await host.VirtualHost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct))
        {
            await channel.QueueDeclareAsync("tests.refuse-deletions", durable: false, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" }, cancellationToken: ct);
            await channel.QueueBindAsync("tests.refuse-deletions", Topology.EventsExchange, "user.deleted", cancellationToken: ct);
        }

        await Assert.ThrowsAnyAsync<Exception>(() => host.WithFeatureAsync<DeletionRequests, Reply<Empty>>(feature => feature.DeleteAsync("delete-halfway", delete, ct)));
        Assert.Null(await host.Store.FindByIdAsync(user.Id, ct));

        // Refused by one queue, the publish failed as a whole (another queue may still have its copy:
        // consumers are idempotent); the redelivery must publish again.
        var before = host.Events.Events.Count(e => e.UserId == user.Id);

        await using (var connection = await host.VirtualHost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: ct))
        {
            await channel.QueueDeleteAsync("tests.refuse-deletions", ifUnused: false, ifEmpty: false, cancellationToken: ct);
        }

        var redelivered = await host.WithFeatureAsync<DeletionRequests, Reply<Empty>>(feature => feature.DeleteAsync("delete-halfway", delete, ct));
        Assert.Equal(ReplyStatus.Ok, redelivered.Status);
        await Wait.UntilAsync(() => host.Events.Events.Count(e => e.UserId == user.Id) > before, "user.deleted goes out on redelivery");
    }

    [Fact]
    public async Task A_sign_out_everywhere_redelivered_answers_ok_again_without_a_second_new_stamp()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (user, self) = await host.NewUserAsync("everywhere");
        var command = new RevokeAllSessions(self, user.Id);

        var first = await host.WithFeatureAsync<SignInRequests, Reply<Empty>>(feature => feature.RevokeAllSessionsAsync("revoke-1", command, TestContext.Current.CancellationToken));
        var stampAfterFirst = (await host.Store.FindByIdAsync(user.Id, TestContext.Current.CancellationToken))!.SecurityStamp;
        var redelivered = await host.WithFeatureAsync<SignInRequests, Reply<Empty>>(feature => feature.RevokeAllSessionsAsync("revoke-1", command, TestContext.Current.CancellationToken));

        Assert.Equal(ReplyStatus.Ok, first.Status);
        Assert.Equal(ReplyStatus.Ok, redelivered.Status);
        Assert.NotEqual(self.StampHash, UserService.Model.User.StampHash(stampAfterFirst!));
        Assert.Equal(stampAfterFirst, (await host.Store.FindByIdAsync(user.Id, TestContext.Current.CancellationToken))!.SecurityStamp);
    }

    [Fact]
    public async Task A_sign_out_redelivered_answers_ok_again_and_the_session_stays_ended()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var (_, self) = await host.NewUserAsync("leaving");
        var session = (await host.SendAsync(new AuthenticateUser("leaving", Password))).Value!;

        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession(self, session.RefreshToken), requestId: "sign-out-1")).Status);
        Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new RevokeSession(self, session.RefreshToken), requestId: "sign-out-1")).Status);
        Assert.Equal(ReplyStatus.Unauthorized, (await host.SendAsync(new RefreshSession(session.RefreshToken))).Status);
    }

    /// <summary>
    /// An admin's e-mail change and password reset of one account, at the same moment, both stick: the
    /// second writer finds the version moved, reads again and re-applies (no lost update).
    /// </summary>
    [Fact]
    public async Task Concurrent_changes_of_different_fields_of_one_account_all_survive()
    {
        await using var host = await UserServiceHost.StartAsync(servers);
        var admin = await host.AdminAsync();
        var (user, _) = await host.NewUserAsync("contested");

        for (var round = 0; round < 6; round++)
        {
            var email = $"contested{round}@example.test";
            var password = $"passw0rd-round-{round}";
            var results = await Task.WhenAll(
                host.SendAsync(new UpdateUser(admin, user.Id, Email: email)),
                host.SendAsync(new UpdateUser(admin, user.Id, NewPassword: password)));

            Assert.All(results, reply => Assert.Equal(ReplyStatus.Ok, reply.Status));
            Assert.Equal(email, (await host.Store.FindByIdAsync(user.Id, TestContext.Current.CancellationToken))!.Email);
            Assert.Equal(ReplyStatus.Ok, (await host.SendAsync(new AuthenticateUser("contested", password))).Status);
        }
    }
}
