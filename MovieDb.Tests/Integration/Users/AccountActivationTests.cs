using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using RabbitMQ.Client;
using UserService;
using UserService.Contracts;
using UserService.Model;

namespace MovieDb.Tests.Integration.Users;

/// <summary>
/// Activation in the user service, through the real broker: <c>user.registered</c> is published at
/// least once, like <c>user.deleted</c> — a registration whose event did not go out is redelivered,
/// and the redelivery publishes it, with a new token since only hashes are stored, so that the one
/// link that works is the last one mailed; and a pending account's sign-in tells nothing about the password.
/// </summary>
public sealed class AccountActivationTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_registration_whose_event_was_refused_is_redelivered_publishes_it_and_only_the_last_token_activates()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));
        var recorded = new ConcurrentQueue<UserRegistered>();
        await using var recorder = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(recorded);
            builder.AddEventSubscription("tests.registered").On<UserRegistered, RecordingConsumer>();
        }, applicationName: "recorder");
        await using var gateway = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests),
            new Dictionary<string, string?> { ["Messaging:MaxDeliveries"] = "100" }, "gateway");
        var requests = gateway.Services.GetRequiredService<IRequestClient>();

        // While a queue bound to user.registered refuses every message, the publish after storing the
        // account is nacked: the handler fails with the account stored, and the broker redelivers it.
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeclareAsync("tests.refuse-events", durable: false, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-max-length"] = 0, ["x-overflow"] = "reject-publish" }, cancellationToken: Ct);
            await channel.QueueBindAsync("tests.refuse-events", Topology.EventsExchange, "user.registered", cancellationToken: Ct);
        }

        var settings = UserServiceHost.Settings(vhost.ConnectionString, directory);
        settings["Accounts:RequireActivation"] = "true";
        settings["Messaging:MaxDeliveries"] = "100";
        settings["Messaging:RetryDelay"] = "00:00:00.050";
        await using var service = new ServiceFactory<UserServiceApp>(settings);
        using (var client = service.CreateClient())
        {
            await Wait.UntilHealthAsync(client, "the user service is ready");
        }

        var sent = await requests.SendAsync(new RegisterUser("redelivered", "redelivered@example.test", "s3cret-passw0rd"),
            new RequestOptions { RequestId = "redelivered-registration", Timeout = TimeSpan.FromSeconds(1) }, Ct);
        Assert.Equal(RequestOutcome.TimedOut, sent.Outcome);
        await Wait.UntilAsync(async () => (await AskAsync(requests, new GetRegistrationStatus("redelivered-registration"))).Value!.Status == CommandStatus.Succeeded,
            "the account is stored while its event is refused");

        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeleteAsync("tests.refuse-events", cancellationToken: Ct);
        }

        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands) == 0 && await vhost.QueueValueAsync(UserServiceQueues.Requests.Commands, "messages_unacknowledged") == 0
            && recorded.Any(e => e.UserName == "redelivered"), "the redelivered registration published its event", TimeSpan.FromSeconds(60));

        // Every delivery issued a token; only the last one's hash is stored, so exactly one activates.
        var tokens = recorded.Where(e => e.UserName == "redelivered").Select(e => e.ActivationToken!).Distinct(StringComparer.Ordinal).ToList();
        var outcomes = new List<ReplyStatus>();
        foreach (var token in tokens)
        {
            outcomes.Add((await AskAsync(requests, new ActivateAccount(token))).Status);
        }

        Assert.Single(outcomes, status => status == ReplyStatus.Ok);
        Assert.All(outcomes.Where(status => status != ReplyStatus.Ok), status => Assert.Equal(ReplyStatus.Invalid, status));
        Assert.Equal(ReplyStatus.Ok, (await AskAsync(requests, new AuthenticateUser("redelivered", "s3cret-passw0rd"))).Status);
        Assert.Equal(0u, await vhost.MessageCountAsync(UserServiceQueues.Requests.DeadLetters));
    }

    [Fact]
    public async Task Sign_in_to_a_pending_account_answers_the_same_for_a_right_and_a_wrong_password_after_the_same_hash_check()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));
        var hasher = new CountingHasher();
        var settings = UserServiceHost.Settings(vhost.ConnectionString, directory);
        settings["Accounts:RequireActivation"] = "true";
        await using var service = new ServiceFactory<UserServiceApp>(settings, configureServices: services => services.AddSingleton<IPasswordHasher<User>>(hasher));
        using (var client = service.CreateClient())
        {
            await Wait.UntilHealthAsync(client, "the user service is ready");
        }

        await using var gateway = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests), applicationName: "gateway");
        var requests = gateway.Services.GetRequiredService<IRequestClient>();
        Assert.Equal(ReplyStatus.Ok, (await AskAsync(requests, new RegisterUser("waiting", "waiting@example.test", "s3cret-passw0rd"))).Status);

        var before = hasher.Verifications;
        var right = await AskAsync(requests, new AuthenticateUser("waiting", "s3cret-passw0rd"));
        var afterRight = hasher.Verifications;
        var wrong = await AskAsync(requests, new AuthenticateUser("waiting", "wrong-passw0rd"));

        Assert.Equal((ReplyStatus.Forbidden, ReplyStatus.Forbidden), (right.Status, wrong.Status));
        Assert.Equal((right.Error!.Title, right.Error.Detail), (wrong.Error!.Title, wrong.Error.Detail));
        Assert.Equal((1, 1), (afterRight - before, hasher.Verifications - afterRight));
    }

    private static async Task<Reply<T>> AskAsync<T>(IRequestClient requests, IRequest<T> request)
    {
        var result = await requests.SendAsync(request, new RequestOptions { Timeout = TimeSpan.FromSeconds(10) }, Ct);
        Assert.Equal(RequestOutcome.Replied, result.Outcome);
        return result.Reply!;
    }

    /// <summary>ASP.NET Core's hasher, counting verifications: each costs the same PBKDF2 work.</summary>
    private sealed class CountingHasher : IPasswordHasher<User>
    {
        private readonly PasswordHasher<User> _inner = new(Microsoft.Extensions.Options.Options.Create(new PasswordHasherOptions { IterationCount = 10_000 }));
        private int _verifications;

        public int Verifications => Volatile.Read(ref _verifications);

        public string HashPassword(User user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(User user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verifications);
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    private sealed class RecordingConsumer(ConcurrentQueue<UserRegistered> recorded) : IEventConsumer<UserRegistered>
    {
        public Task HandleAsync(UserRegistered message, CancellationToken cancellationToken)
        {
            recorded.Enqueue(message);
            return Task.CompletedTask;
        }
    }
}
