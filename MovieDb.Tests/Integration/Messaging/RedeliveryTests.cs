using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using RabbitMQ.Client;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>Retries, dead-lettering and expiry in the request handler host, on a real broker.</summary>
public sealed class RedeliveryTests(TestServers servers)
{
    private const int MaxDeliveries = 3;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Settings => new() { ["Messaging:MaxDeliveries"] = MaxDeliveries.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    private static Task<MessagingTestHost> StartUserServiceAsync(TestVirtualHost vhost, HandlerScript script) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(script);
            builder.AddRequestHandlers(UserServiceQueues.Requests)
                .Add<GetUser, UserDto, ScriptedGetUserHandler>()
                .Add<DeleteUser, Empty, ScriptedDeleteUserHandler>();
        }, Settings, "userservice");

    private static Task<MessagingTestHost> StartGatewayAsync(TestVirtualHost vhost) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests), Settings, "gateway");

    private static Task PublishRawAsync(TestVirtualHost vhost, string queue, string? type, byte[] body, string messageId) =>
        RawMessages.PublishAsync(vhost, queue, new BasicProperties { MessageId = messageId, Type = type, ContentType = "application/json", Persistent = true }, body);

    private static Task<List<BasicGetResult>> DrainAsync(TestVirtualHost vhost, string queue) => RawMessages.DrainAsync(vhost, queue);

    private static string Header(BasicGetResult message, string name) => RawMessages.Header(message, name);

    [Fact]
    public async Task A_command_whose_handler_fails_once_is_retried_and_the_caller_gets_the_reply()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        script.FailuresLeft["flaky"] = 1;
        await using var userService = await StartUserServiceAsync(vhost, script);
        await using var gateway = await StartGatewayAsync(vhost);

        var result = await gateway.Services.GetRequiredService<IRequestClient>().SendAsync(new DeleteUser(new Actor("a", "stamp"), "flaky"), cancellationToken: Ct);

        Assert.Equal(RequestOutcome.Replied, result.Outcome);
        Assert.Equal(ReplyStatus.Ok, result.Reply!.Status);
        Assert.Equal(2, script.CallsFor("flaky"));
        Assert.Equal([1, 2], script.Seen.Where(s => s.UserId == "flaky").Select(s => s.Context.Attempt));
    }

    [Fact]
    public async Task A_query_whose_handler_fails_is_dead_lettered_at_once_and_the_caller_told()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        script.FailuresLeft["broken-read"] = 1;
        await using var userService = await StartUserServiceAsync(vhost, script);
        await using var gateway = await StartGatewayAsync(vhost);

        var result = await gateway.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "broken-read"), new RequestOptions { RequestId = "broken-read" }, Ct);

        Assert.Equal(RequestOutcome.Replied, result.Outcome);
        Assert.Equal(ReplyStatus.Failed, result.Reply!.Status);
        Assert.Equal(1, script.CallsFor("broken-read"));
        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = await DrainAsync(vhost, UserServiceQueues.Requests.DeadLetters)).Count == 1, "the dead letter");
        Assert.Equal("handler-failed", Header(dead[0], Topology.DeadLetterReasonHeader));
        Assert.Equal(UserServiceQueues.Requests.Queries, Header(dead[0], Topology.DeadLetterQueueHeader));
    }

    [Fact]
    public async Task Poison_messages_end_in_the_dead_letter_queue_with_a_reason_while_good_messages_keep_flowing()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        script.FailuresLeft["always-fails"] = int.MaxValue;
        await using var userService = await StartUserServiceAsync(vhost, script);
        await using var gateway = await StartGatewayAsync(vhost);
        var requests = gateway.Services.GetRequiredService<IRequestClient>();

        await PublishRawAsync(vhost, UserServiceQueues.Requests.Commands, "users.delete", Encoding.UTF8.GetBytes("{not json"), "unparseable");
        await PublishRawAsync(vhost, UserServiceQueues.Requests.Commands, "users.no-such-thing", Encoding.UTF8.GetBytes("{}"), "unknown-type");
        var failing = requests.SendAsync(new DeleteUser(new Actor("a", "stamp"), "always-fails"), new RequestOptions { RequestId = "handler-fails", Timeout = TimeSpan.FromSeconds(20) }, Ct);
        var good = await requests.SendAsync(new GetUser(new Actor("tests", "stamp"), "good"), cancellationToken: Ct);

        Assert.Equal(RequestOutcome.Replied, good.Outcome);
        Assert.Equal(ReplyStatus.Ok, good.Reply!.Status);

        // The caller of the failing command is told, while it still waits.
        var failed = await failing;
        Assert.Equal(RequestOutcome.Replied, failed.Outcome);
        Assert.Equal(ReplyStatus.Failed, failed.Reply!.Status);
        Assert.Equal(MaxDeliveries, script.CallsFor("always-fails"));

        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = [.. dead, .. await DrainAsync(vhost, UserServiceQueues.Requests.DeadLetters)]).Count >= 3, "three dead letters");
        var byId = dead.ToDictionary(m => m.BasicProperties.MessageId!);
        Assert.Equal("unparseable", Header(byId["unparseable"], Topology.DeadLetterReasonHeader));
        Assert.Equal("unknown-type", Header(byId["unknown-type"], Topology.DeadLetterReasonHeader));
        Assert.Equal("max-deliveries-exceeded", Header(byId["handler-fails"], Topology.DeadLetterReasonHeader));
        Assert.Equal(MaxDeliveries.ToString(System.Globalization.CultureInfo.InvariantCulture), Header(byId["handler-fails"], Topology.DeliveryAttemptsHeader));
        Assert.Contains("scripted failure", Header(byId["handler-fails"], Topology.DeadLetterDetailHeader), StringComparison.Ordinal);
        Assert.Equal(UserServiceQueues.Requests.Commands, Header(byId["handler-fails"], Topology.DeadLetterQueueHeader));
        Assert.Equal(0u, await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands));
    }

    [Fact]
    public async Task Dead_letters_do_not_keep_passwords_or_tokens()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var userService = await StartUserServiceAsync(vhost, new HandlerScript());

        // users.register has no handler in this host: it is dead-lettered as an unknown type.
        await PublishRawAsync(vhost, UserServiceQueues.Requests.Commands, "users.register",
            MessageSerializer.Serialize(new RegisterUser("alice", "alice@example.test", "correct horse battery staple")), "with-secret");

        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = await DrainAsync(vhost, UserServiceQueues.Requests.DeadLetters)).Count == 1, "the dead letter");
        var body = JsonNode.Parse(dead[0].Body.Span)!;
        Assert.Equal("***", (string?)body["password"]);
        Assert.Equal("alice", (string?)body["userName"]);
    }

    [Fact]
    public async Task A_query_that_expires_before_a_consumer_runs_is_dropped_not_processed_and_not_dead_lettered()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using (var gateway = await StartGatewayAsync(vhost))
        {
            // No user service runs: the query is confirmed and queued, then nobody answers.
            var result = await gateway.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "expired"), new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }, Ct);
            Assert.Equal(RequestOutcome.TimedOut, result.Outcome);
        }

        var script = new HandlerScript();
        await using var userService = await StartUserServiceAsync(vhost, script);
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(UserServiceQueues.Requests.Queries) == 0, "the expired query leaves the queue");

        Assert.Equal(0, script.CallsFor("expired"));
        Assert.Equal(0u, await vhost.MessageCountAsync(UserServiceQueues.Requests.DeadLetters));
    }

    [Fact]
    public async Task A_command_sent_while_no_consumer_runs_is_processed_once_one_starts()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using (var gateway = await StartGatewayAsync(vhost))
        {
            var result = await gateway.Services.GetRequiredService<IRequestClient>().SendAsync(new DeleteUser(new Actor("a", "stamp"), "queued"), new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }, Ct);
            Assert.Equal(RequestOutcome.TimedOut, result.Outcome);
        }

        Assert.Equal(1u, await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands));
        var script = new HandlerScript();
        await using var userService = await StartUserServiceAsync(vhost, script);

        await Wait.UntilAsync(() => script.CallsFor("queued") == 1, "the queued command is handled");
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(UserServiceQueues.Requests.Commands) == 0, "the queue is empty");
        Assert.Equal(1, script.CallsFor("queued"));
    }

    [Fact]
    public async Task A_message_that_keeps_killing_its_consumer_is_dead_lettered_by_the_broker_after_the_delivery_limit()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using (var userService = await StartUserServiceAsync(vhost, new HandlerScript()))
        {
            // Only to declare the topology with MaxDeliveries = 3.
        }

        await PublishRawAsync(vhost, UserServiceQueues.Requests.Commands, "users.delete", Encoding.UTF8.GetBytes("{}"), "crasher");

        // A consumer that "crashes" (closes its channel without acknowledging) on every delivery, until
        // the broker dead-letters the message. The message is back in its queue only some time after the
        // channel closed, so each round takes it if it is there and otherwise just looks again.
        var deliveries = 0;
        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(
            async () =>
            {
                if ((dead = await DrainAsync(vhost, UserServiceQueues.Requests.DeadLetters)).Count > 0)
                {
                    return true;
                }

                await using var connection = await vhost.ConnectAsync();
                var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
                if (await channel.BasicGetAsync(UserServiceQueues.Requests.Commands, autoAck: false, Ct) is not null)
                {
                    deliveries++;
                }

                await channel.CloseAsync(Ct);
                return false;
            },
            "the broker dead-letters the message",
            interval: TimeSpan.FromMilliseconds(100));
        Assert.Single(dead);
        Assert.Equal("crasher", dead[0].BasicProperties.MessageId);
        Assert.Equal("delivery_limit", Header(dead[0], "x-first-death-reason"));
        Assert.InRange(deliveries, MaxDeliveries, MaxDeliveries + 1);
    }

    [Fact]
    public async Task When_an_operator_deletes_the_request_queue_the_consumer_declares_it_again_and_carries_on()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        await using var userService = await StartUserServiceAsync(vhost, script);
        await using var gateway = await StartGatewayAsync(vhost);
        var requests = gateway.Services.GetRequiredService<IRequestClient>();

        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeleteAsync(UserServiceQueues.Requests.Commands, cancellationToken: Ct);
        }

        await Wait.UntilAsync(async () =>
            (await requests.SendAsync(new DeleteUser(new Actor("a", "stamp"), $"after-{Guid.NewGuid():N}"), new RequestOptions { Timeout = TimeSpan.FromSeconds(1) }, Ct)).Outcome == RequestOutcome.Replied,
            "commands are answered again", TimeSpan.FromSeconds(30));
    }
}
