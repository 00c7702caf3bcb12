using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using MovieDb.Tests.Infrastructure;

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
}
