using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using MovieDb.Messaging;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using MovieDb.Tests.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>Event publishing and durable subscriptions on a real broker.</summary>
public sealed class EventTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<MessagingTestHost> StartSubscriberAsync(TestVirtualHost vhost, HandlerScript script) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(script);
            builder.AddEventSubscription("tests.events").On<UserDeleted, ScriptedUserDeletedConsumer>();
        }, new Dictionary<string, string?> { ["Messaging:MaxDeliveries"] = "2" }, "subscriber");

    private static Task<MessagingTestHost> StartPublisherAsync(TestVirtualHost vhost) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddEventPublisher(), applicationName: "publisher");

    /// <summary>A gateway's cache: a per-instance subscription that records what it hears.</summary>
    private static Task<MessagingTestHost> StartCacheAsync(TestVirtualHost vhost, HandlerScript script) =>
        MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(script);
            builder.AddPerInstanceEventSubscription().On<UserDeleted, ScriptedUserDeletedConsumer>();
        }, applicationName: "gateway");

    [Fact]
    public async Task A_published_event_reaches_the_subscriber_with_its_trace_context()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        await using var subscriber = await StartSubscriberAsync(vhost, script);
        await using var publisher = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddEventPublisher(), applicationName: "publisher");

        await publisher.Services.GetRequiredService<IEventPublisher>().PublishAsync(new UserDeleted("u-1", DateTimeOffset.UtcNow), Ct);

        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "u-1"), "the event arrives");
    }

    [Fact]
    public async Task An_event_published_while_the_subscriber_is_down_is_delivered_when_it_comes_back()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using (await StartSubscriberAsync(vhost, new HandlerScript()))
        {
            // Declares the durable subscription queue.
        }

        await using (var publisher = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddEventPublisher(), applicationName: "publisher"))
        {
            await publisher.Services.GetRequiredService<IEventPublisher>().PublishAsync(new UserDeleted("while-down", DateTimeOffset.UtcNow), Ct);
        }

        var script = new HandlerScript();
        await using var subscriber = await StartSubscriberAsync(vhost, script);
        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "while-down"), "the queued event arrives");
    }

    [Fact]
    public async Task An_event_whose_handler_keeps_failing_is_dead_lettered_to_the_subscriptions_dead_letter_queue()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        script.FailuresLeft["poison"] = int.MaxValue;
        await using var subscriber = await StartSubscriberAsync(vhost, script);
        await using var publisher = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddEventPublisher(), applicationName: "publisher");
        var events = publisher.Services.GetRequiredService<IEventPublisher>();

        await events.PublishAsync(new UserDeleted("poison", DateTimeOffset.UtcNow), Ct);
        await events.PublishAsync(new UserDeleted("fine", DateTimeOffset.UtcNow), Ct);

        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "fine"), "the good event arrives");
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(Topology.DeadLetterQueueFor("tests.events")) == 1, "the poison event is dead-lettered");
        Assert.Equal(2, script.CallsFor("poison"));

        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        var dead = await channel.BasicGetAsync(Topology.DeadLetterQueueFor("tests.events"), autoAck: true, Ct);
        Assert.Equal("max-deliveries-exceeded", Encoding.UTF8.GetString((byte[])dead!.BasicProperties.Headers![Topology.DeadLetterReasonHeader]!));
    }

    [Fact]
    public async Task An_event_published_while_no_subscriber_queue_exists_is_parked_not_lost()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var publisher = await StartPublisherAsync(vhost);

        await publisher.Services.GetRequiredService<IEventPublisher>().PublishAsync(new UserDeleted("nobody-listens", DateTimeOffset.UtcNow), Ct);

        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(Topology.UnroutedEventsQueue) == 1, "the event is parked");
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        var parked = await channel.BasicGetAsync(Topology.UnroutedEventsQueue, autoAck: true, Ct);
        Assert.NotNull(parked);
        Assert.Equal(Topology.EventsExchange, parked.Exchange);
        Assert.Equal("user.deleted", parked.RoutingKey);
        Assert.Equal("user.deleted", parked.BasicProperties.Type);
        Assert.True(parked.BasicProperties.Persistent);
        Assert.Equal("nobody-listens", MessageSerializer.Deserialize<UserDeleted>(parked.Body.Span).UserId);
    }

    [Fact]
    public async Task A_subscriber_whose_queue_is_new_receives_each_parked_event_exactly_once_and_events_it_does_not_handle_stay_parked()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var publisher = await StartPublisherAsync(vhost);
        var events = publisher.Services.GetRequiredService<IEventPublisher>();
        await events.PublishAsync(new UserDeleted("parked-1", DateTimeOffset.UtcNow), Ct);
        await events.PublishAsync(new UserRegistered(Guid.NewGuid().ToString(), "someone", "someone", "someone@example.test", null, null, DateTimeOffset.UtcNow), Ct);
        await events.PublishAsync(new UserDeleted("parked-2", DateTimeOffset.UtcNow), Ct);
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(Topology.UnroutedEventsQueue) == 3, "three events are parked");

        var script = new HandlerScript();
        await using var subscriber = await StartSubscriberAsync(vhost, script);

        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "parked-1") && script.Events.Any(e => e.UserId == "parked-2"), "the parked events arrive");
        // user.registered has no queue yet: re-published, it is parked again, not lost.
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(Topology.UnroutedEventsQueue) == 1, "only the unhandled event stays parked");

        // Events published from now on go to the queue directly; when this one has been handled, any
        // second copy of a parked event would have been too.
        await events.PublishAsync(new UserDeleted("after", DateTimeOffset.UtcNow), Ct);
        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "after"), "a later event arrives");
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync("tests.events") == 0, "the subscription queue is drained");

        Assert.Equal(1, script.CallsFor("parked-1"));
        Assert.Equal(1, script.CallsFor("parked-2"));
        Assert.Equal(1u, await vhost.MessageCountAsync(Topology.UnroutedEventsQueue));
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        var stillParked = await channel.BasicGetAsync(Topology.UnroutedEventsQueue, autoAck: true, Ct);
        Assert.Equal("user.registered", stillParked!.RoutingKey);
        Assert.Equal("someone", MessageSerializer.Deserialize<UserRegistered>(stillParked.Body.Span).UserId);
    }

    [Fact]
    public async Task A_subscriber_whose_queue_already_exists_does_not_replay_parked_events()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using (await StartSubscriberAsync(vhost, new HandlerScript()))
        {
            // Declares the durable subscription queue.
        }

        await using var connection = await vhost.ConnectAsync();
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            // An event this queue would receive, parked while the queue existed (as one published before
            // the service bound its type would be): only a queue declared for the first time replays.
            var body = MessageSerializer.Serialize(new UserDeleted("left-alone", DateTimeOffset.UtcNow));
            await channel.BasicPublishAsync(Topology.UnroutedEventsExchange, "user.deleted", mandatory: false,
                RawMessages.SignedEvent(new BasicProperties { Type = "user.deleted", ContentType = "application/json", Persistent = true }, body), body, Ct);
        }

        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(Topology.UnroutedEventsQueue) == 1, "the event is parked");
        var script = new HandlerScript();
        await using var subscriber = await StartSubscriberAsync(vhost, script);
        await using var publisher = await StartPublisherAsync(vhost);
        await publisher.Services.GetRequiredService<IEventPublisher>().PublishAsync(new UserDeleted("marker", DateTimeOffset.UtcNow), Ct);
        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "marker"), "a published event arrives");

        Assert.Equal(0, script.CallsFor("left-alone"));
        Assert.Equal(1u, await vhost.MessageCountAsync(Topology.UnroutedEventsQueue));
    }

    [Fact]
    public async Task Broadcasts_reach_every_per_instance_subscription_which_never_keeps_a_domain_event_from_being_parked()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var first = new HandlerScript();
        var second = new HandlerScript();
        await using var firstCache = await StartCacheAsync(vhost, first);
        await using var secondCache = await StartCacheAsync(vhost, second);
        await using var publisher = await StartPublisherAsync(vhost);
        var events = publisher.Services.GetRequiredService<IEventPublisher>();

        await events.PublishAsync(new UserDeleted("domain", DateTimeOffset.UtcNow), Ct);
        await events.BroadcastAsync(new UserDeleted("notice", DateTimeOffset.UtcNow), Ct);

        await Wait.UntilAsync(() => first.Events.Any(e => e.UserId == "notice") && second.Events.Any(e => e.UserId == "notice"), "every instance hears the broadcast");
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(Topology.UnroutedEventsQueue) == 1, "the domain event is parked for a subscriber to come");
        Assert.Equal(0, first.CallsFor("domain"));
        Assert.Equal(0, second.CallsFor("domain"));
    }

    [Fact]
    public async Task An_events_exchange_declared_without_the_alternate_exchange_keeps_carrying_events_and_the_log_says_how_to_fix_it()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            // As a MovieDb from before the alternate exchange declared it.
            await channel.ExchangeDeclareAsync(Topology.EventsExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: Ct);
        }

        var script = new HandlerScript();
        await using var subscriber = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Logging.AddFakeLogging();
            builder.Services.AddSingleton(script);
            builder.AddEventSubscription("tests.events").On<UserDeleted, ScriptedUserDeletedConsumer>();
        }, applicationName: "subscriber");
        await using var publisher = await StartPublisherAsync(vhost);

        await publisher.Services.GetRequiredService<IEventPublisher>().PublishAsync(new UserDeleted("still-flows", DateTimeOffset.UtcNow), Ct);

        await Wait.UntilAsync(() => script.Events.Any(e => e.UserId == "still-flows"), "the event arrives");
        var logged = subscriber.Services.GetRequiredService<FakeLogCollector>().GetSnapshot()
            .Where(r => r.Level == LogLevel.Error && r.Message.Contains(Topology.EventsExchange, StringComparison.Ordinal))
            .ToList();
        var error = Assert.Single(logged);
        Assert.Contains("set_policy", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{{\"alternate-exchange\":\"{Topology.UnroutedEventsExchange}\"}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dead_letter_the_broker_refuses_goes_back_to_its_queue_and_is_dead_lettered_once_the_broker_accepts_it()
    {
        const string Policy = "refuse-dead-letters";
        var deadLetters = Topology.DeadLetterQueueFor("tests.events");
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        // A delivery limit far above what the test reaches: beyond it the broker would dead-letter the
        // message itself, at most once, into the refusing queue — and lose it (docs/reliability.md).
        await using var subscriber = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(new HandlerScript());
            builder.AddEventSubscription("tests.events").On<UserDeleted, ScriptedUserDeletedConsumer>();
        }, new Dictionary<string, string?> { ["Messaging:MaxDeliveries"] = "100", ["Messaging:RetryDelay"] = "00:00:00.100" }, "subscriber");

        await vhost.SetPolicyAsync(Policy, "^tests[.]events[.]dead$", new Dictionary<string, object> { ["max-length"] = 0, ["overflow"] = "reject-publish" });
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), Ct);
        await Wait.UntilAsync(async () => await IsRefusedAsync(connection, deadLetters), "the dead-letter queue refuses messages");
        var probes = await vhost.MessageCountAsync(deadLetters);

        // Unparseable: dead-lettered at its first delivery, without handler retries.
        var poison = Encoding.UTF8.GetBytes("not json");
        await channel.BasicPublishAsync(Topology.EventsExchange, "user.deleted", mandatory: true,
            RawMessages.SignedEvent(new BasicProperties { MessageId = "poison", Type = "user.deleted", ContentType = "application/json", Persistent = true }, poison),
            poison, Ct);

        // Held, it would be delivered once and stay unacknowledged; handed back, it comes again.
        await Wait.UntilAsync(async () => await vhost.QueueStatAsync("tests.events", "redeliver") >= 2, "the message goes back to its queue and is delivered again");
        Assert.Equal(probes, await vhost.MessageCountAsync(deadLetters));

        await vhost.DeletePolicyAsync(Policy);

        await Wait.UntilAsync(async () => await vhost.MessageCountAsync(deadLetters) == probes + 1, "the message is dead-lettered once the queue accepts it");
        await Wait.UntilAsync(
            async () => await vhost.QueueValueAsync("tests.events", "messages") == 0 && await vhost.QueueValueAsync("tests.events", "messages_unacknowledged") == 0,
            "nothing is left in or held from the subscription queue");
        BasicGetResult? dead;
        do
        {
            dead = await channel.BasicGetAsync(deadLetters, autoAck: true, Ct);
        }
        while (dead is not null && dead.BasicProperties.MessageId == "probe");

        Assert.Equal("poison", dead!.BasicProperties.MessageId);
        Assert.Equal("unparseable", Encoding.UTF8.GetString((byte[])dead.BasicProperties.Headers![Topology.DeadLetterReasonHeader]!));
        Assert.True((int)dead.BasicProperties.Headers[Topology.DeliveryAttemptsHeader]! >= 3, "dead-lettered after being handed back at least twice");
    }

    /// <summary>
    /// Whether the broker refuses a publish to <paramref name="queue"/> now. A quorum queue refuses
    /// only once it holds more than its max-length, so with a max-length of 0 the first probe gets
    /// in, and stays: it keeps the queue at its limit.
    /// </summary>
    private static async Task<bool> IsRefusedAsync(IConnection connection, string queue)
    {
        await using var probe = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), Ct);
        try
        {
            await probe.BasicPublishAsync(string.Empty, queue, mandatory: true, new BasicProperties { MessageId = "probe" }, Encoding.UTF8.GetBytes("probe"), Ct);
        }
        catch (PublishException)
        {
            return true;
        }

        return false;
    }
}
