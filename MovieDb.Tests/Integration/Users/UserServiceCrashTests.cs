using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using RabbitMQ.Client;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Users;

/// <summary>
/// The user service as a real process, killed for real (SIGKILL): a registration is processed
/// exactly once in effect, whatever happens to the process.
/// </summary>
public sealed class UserServiceCrashTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ServiceProcess StartUserService(TestVirtualHost vhost, string directory, int maxDeliveries = 5) =>
        ServiceProcess.Start("UserService", new Dictionary<string, string?>
        {
            ["ConnectionStrings__messaging"] = vhost.ConnectionString,
            ["ConnectionStrings__userdb"] = $"Filename={Path.Combine(directory, "users.db")};Connection=shared",
            ["Admin__Password"] = UserServiceHost.AdminPassword,
            ["Messaging__SigningKey"] = EndToEnd.InProcessSystem.MessagingSigningKey,
            ["Messaging__EventSigningKey"] = EndToEnd.InProcessSystem.EventSigningKey,
            ["PasswordHasher__IterationCount"] = "10000",
            ["Messaging__MaxDeliveries"] = maxDeliveries.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Messaging__RetryDelay"] = "00:00:00.200",
            ["Accounts__RequireActivation"] = "false",
        });

    private static async Task<Actor> AdminAsync(IRequestClient requests)
    {
        var session = (await AskAsync(requests, new AuthenticateUser("admin", UserServiceHost.AdminPassword))).Value!;
        return new Actor(session.User.Id, session.Security.StampHash);
    }

    private static async Task<Reply<T>> AskAsync<T>(IRequestClient requests, IRequest<T> request)
    {
        var result = await requests.SendAsync(request, new RequestOptions { Timeout = TimeSpan.FromSeconds(10) }, Ct);
        Assert.Equal(RequestOutcome.Replied, result.Outcome);
        return result.Reply!;
    }

    [Fact]
    public async Task A_user_service_killed_after_storing_but_before_acknowledging_leaves_exactly_one_account()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));
        await using var gateway = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests),
            new Dictionary<string, string?> { ["Messaging:MaxDeliveries"] = "100" }, "gateway");
        var requests = gateway.Services.GetRequiredService<IRequestClient>();

        // Hold the handler between "stored" and "acknowledged": the user.registered event it publishes
        // after storing is routed to a queue that refuses every message, so the publish is nacked and
        // the handler keeps failing (and retrying) with the account already stored.
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await Topology.DeclareEventsExchangeAsync(channel, Ct);
            await channel.QueueDeclareAsync("tests.refuse-events", durable: false, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" }, cancellationToken: Ct);
            await channel.QueueBindAsync("tests.refuse-events", Topology.EventsExchange, "user.registered", cancellationToken: Ct);
        }

        await using var first = StartUserService(vhost, directory, maxDeliveries: 100);
        await first.WaitUntilHealthyAsync();

        var registration = new RegisterUser("phoenix", "phoenix@example.test", "s3cret-passw0rd");
        var sent = await requests.SendAsync(registration, new RequestOptions { RequestId = "crash-registration", Timeout = TimeSpan.FromSeconds(1) }, Ct);
        Assert.Equal(RequestOutcome.TimedOut, sent.Outcome);

        await Wait.UntilAsync(async () => (await AskAsync(requests, new GetRegistrationStatus("crash-registration"))).Value!.Status == CommandStatus.Succeeded,
            "the account is stored");

        first.Kill();

        // The message was never acknowledged: it is back in the queue once the broker has noticed
        // that the connection died with the process.
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands) == 1u, "the unacknowledged registration is back in the queue");

        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeleteAsync("tests.refuse-events", cancellationToken: Ct);
        }

        await using var second = StartUserService(vhost, directory, maxDeliveries: 100);
        await second.WaitUntilHealthyAsync();
        // Ready count 0 means delivered, not yet processed: wait for the outcome itself.
        var admin = await AdminAsync(requests);
        await Wait.UntilAsync(async () => (await AskAsync(requests, new ListUsers(admin, 1, 100))).Value!.Items.Any(u => u.UserName == "phoenix")
            && await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands) == 0, "the redelivered registration is processed");

        var users = (await AskAsync(requests, new ListUsers(admin, 1, 100))).Value!.Items;
        Assert.Single(users, u => u.UserName == "phoenix");
        var status = (await AskAsync(requests, new GetRegistrationStatus("crash-registration"))).Value!;
        Assert.Equal(CommandStatus.Succeeded, status.Status);
        Assert.Equal(users.Single(u => u.UserName == "phoenix").Id, status.User!.Id);

        // A client retrying with the same Idempotency-Key gets the same account, not a 409.
        var retry = (await requests.SendAsync(registration, new RequestOptions { RequestId = "crash-registration" }, Ct)).Reply!;
        Assert.Equal(ReplyStatus.Ok, retry.Status);
        Assert.Equal(status.User.Id, retry.Value!.Id);
        Assert.Equal(0u, await vhost.MessageCountAsync(UserServiceQueues.Requests.DeadLetters));
    }

    [Fact]
    public async Task A_registration_sent_while_no_user_service_runs_is_processed_once_one_starts()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));
        await using var gateway = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests), applicationName: "gateway");
        var requests = gateway.Services.GetRequiredService<IRequestClient>();

        var sent = await requests.SendAsync(new RegisterUser("early", "early@example.test", "s3cret-passw0rd"), new RequestOptions { RequestId = "early-bird", Timeout = TimeSpan.FromMilliseconds(500) }, Ct);
        Assert.Equal(RequestOutcome.TimedOut, sent.Outcome);
        Assert.Equal(1u, await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands));

        await using var service = StartUserService(vhost, directory);
        await service.WaitUntilHealthyAsync();
        await Wait.UntilAsync(async () => (await AskAsync(requests, new GetRegistrationStatus("early-bird"))).Value!.Status == CommandStatus.Succeeded,
            "the queued registration is processed");

        Assert.Single((await AskAsync(requests, new ListUsers(await AdminAsync(requests), 1, 100))).Value!.Items, u => u.UserName == "early");
    }
}
