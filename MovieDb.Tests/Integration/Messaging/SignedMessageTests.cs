using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using RabbitMQ.Client;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>
/// Requests and replies between two hosts that share a signing key, against someone who can read and
/// publish on the same virtual host: what they make up, change or send late is refused.
/// </summary>
public sealed class SignedMessageTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<MessagingTestHost> StartHandlersAsync(TestVirtualHost vhost, HandlerScript script) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(script);
            builder.AddRequestHandlers(UserServiceQueues.Requests)
                .Add<GetUser, UserDto, ScriptedGetUserHandler>()
                .Add<DeleteUser, Empty, ScriptedDeleteUserHandler>();
        }, applicationName: "userservice");

    private static Task<MessagingTestHost> StartClientAsync(TestVirtualHost vhost) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests), applicationName: "gateway");

    private static BasicProperties Command(string messageId, string replyTo) =>
        new() { MessageId = messageId, CorrelationId = messageId, ReplyTo = replyTo, Type = "users.delete", ContentType = "application/json", Persistent = true };

    [Fact]
    public async Task Requests_that_are_unsigned_changed_signed_with_another_key_or_too_old_are_dead_lettered_unhandled_and_unanswered()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        await using var handlers = await StartHandlersAsync(vhost, script);
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        var replies = (await channel.QueueDeclareAsync(cancellationToken: Ct)).QueueName;
        byte[] Body(string userId) => MessageSerializer.Serialize(new DeleteUser(new Actor("a", "stamp"), userId));

        await RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands, Command("unsigned", replies), Body("unsigned"), signed: false);

        var changed = Command("changed", replies);
        MessageSignatures.Sign(SignedMessage.Request, changed, Body("innocent"), RawMessages.SigningKey, DateTimeOffset.UtcNow);
        await RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands, changed, Body("changed"), signed: false);

        var otherKey = Command("other-key", replies);
        MessageSignatures.Sign(SignedMessage.Request, otherKey, Body("other-key"), Encoding.UTF8.GetBytes(new string('k', 64)), DateTimeOffset.UtcNow);
        await RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands, otherKey, Body("other-key"), signed: false);

        // Signed a week ago: older than a command may wait (6 days), so a copy kept that long is no use.
        var old = Command("too-old", replies);
        MessageSignatures.Sign(SignedMessage.Request, old, Body("too-old"), RawMessages.SigningKey, DateTimeOffset.UtcNow.AddDays(-7));
        await RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands, old, Body("too-old"), signed: false);

        // A made-up request of a type nobody handles: set aside unanswered too (an error reply would be
        // signed, and its correlation id and reply queue are the forger's choice).
        var unknown = Command("unknown-type", replies);
        unknown.Type = "users.nothing";
        await RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands, unknown, Body("unknown-type"), signed: false);

        // And one as the gateway would sign it, after them: the consumer went past the five.
        await RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands, Command("genuine", replies), Body("genuine"));
        await Wait.UntilAsync(() => script.CallsFor("genuine") == 1, "the genuine command is handled");

        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = [.. dead, .. await RawMessages.DrainAsync(vhost, UserServiceQueues.Requests.DeadLetters)]).Count >= 5, "five dead letters");
        Assert.Equal(["changed", "other-key", "too-old", "unknown-type", "unsigned"], dead.Select(m => m.BasicProperties.MessageId!).Order(StringComparer.Ordinal));
        Assert.All(dead, m => Assert.Equal("unauthenticated", RawMessages.Header(m, Topology.DeadLetterReasonHeader)));
        Assert.Contains("outside the", RawMessages.Header(dead.Single(m => m.BasicProperties.MessageId == "too-old"), Topology.DeadLetterDetailHeader), StringComparison.Ordinal);
        Assert.Equal(["genuine"], script.Calls.Keys);

        // Only the genuine command was answered: the reply queue of a forged request is no one's word.
        var answered = new List<string>();
        while (await channel.BasicGetAsync(replies, autoAck: true, Ct) is { } reply)
        {
            answered.Add(reply.BasicProperties.CorrelationId!);
        }

        Assert.Equal(["genuine"], answered);
    }

    [Fact]
    public async Task A_reply_the_handling_service_did_not_sign_answers_nothing_and_a_signed_one_is_taken()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var gateway = await StartClientAsync(vhost);
        var requests = gateway.Services.GetRequiredService<IRequestClient>();

        // No handler runs: the "attacker" reads each query off the queue and answers it in its place.
        async Task<RequestResult<UserDto>> AskAnsweredByAsync(string userId, Func<BasicProperties, byte[], Task> answer)
        {
            var asking = requests.SendAsync(new GetUser(new Actor("tests", "stamp"), userId), new RequestOptions { Timeout = TimeSpan.FromSeconds(3) }, Ct);
            BasicGetResult? query = null;
            await Wait.UntilAsync(async () => (query = (await RawMessages.DrainAsync(vhost, UserServiceQueues.Requests.Queries)).SingleOrDefault()) is not null, "the query is queued");
            var properties = new BasicProperties { CorrelationId = query!.BasicProperties.CorrelationId, MessageId = Guid.NewGuid().ToString(), Type = "users.get.reply", ContentType = "application/json" };
            var body = MessageSerializer.Serialize(Reply<UserDto>.Ok(new UserDto(userId, "mallory", "m@example.test", ["admin"], DateTimeOffset.UtcNow)));
            await answer(properties, body);
            await using var connection = await vhost.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
            await channel.BasicPublishAsync(string.Empty, query.BasicProperties.ReplyTo!, mandatory: false, properties, body, Ct);
            return await asking;
        }

        var unsigned = await AskAnsweredByAsync("unsigned", (_, _) => Task.CompletedTask);
        var otherKey = await AskAnsweredByAsync("other-key", (properties, body) =>
        {
            MessageSignatures.Sign(SignedMessage.Reply, properties, body, Encoding.UTF8.GetBytes(new string('k', 64)), DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        });
        var asRequest = await AskAnsweredByAsync("signed-as-a-request", (properties, body) =>
        {
            MessageSignatures.Sign(SignedMessage.Request, properties, body, RawMessages.SigningKey, DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        });
        var genuine = await AskAnsweredByAsync("genuine", (properties, body) =>
        {
            MessageSignatures.Sign(SignedMessage.Reply, properties, body, RawMessages.SigningKey, DateTimeOffset.UtcNow);
            return Task.CompletedTask;
        });

        Assert.Equal(RequestOutcome.TimedOut, unsigned.Outcome);
        Assert.Equal(RequestOutcome.TimedOut, otherKey.Outcome);
        Assert.Equal(RequestOutcome.TimedOut, asRequest.Outcome);
        Assert.Equal(RequestOutcome.Replied, genuine.Outcome);
        Assert.Equal("genuine", genuine.Reply!.Value!.Id);
    }
}
