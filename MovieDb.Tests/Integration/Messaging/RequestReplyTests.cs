using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Diagnostics;
using MovieDb.Tests.Infrastructure;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>Request/reply between a gateway-like host and a user-service-like host on a real broker.</summary>
public sealed class RequestReplyTests(TestServers servers)
{
    private static async Task<(TestVirtualHost VirtualHost, MessagingTestHost Server, MessagingTestHost Client, HandlerScript Script)> StartAsync(
        TestServers servers, IDictionary<string, string?>? clientSettings = null, IDictionary<string, string?>? serverSettings = null)
    {
        var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        var server = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(script);
            builder.AddRequestHandlers(UserServiceQueues.Requests)
                .Add<GetUser, UserDto, ScriptedGetUserHandler>()
                .Add<DeleteUser, Empty, ScriptedDeleteUserHandler>();
        }, serverSettings, applicationName: "userservice");
        var client = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests), clientSettings, "gateway");
        return (vhost, server, client, script);
    }

    [Fact]
    public async Task A_request_gets_its_reply()
    {
        var (vhost, server, client, _) = await StartAsync(servers);
        await using (vhost)
        await using (server)
        await using (client)
        {
            var result = await client.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "42"), cancellationToken: TestContext.Current.CancellationToken);

            Assert.Equal(RequestOutcome.Replied, result.Outcome);
            Assert.NotNull(result.Reply);
            Assert.Equal(ReplyStatus.Ok, result.Reply.Status);
            Assert.Equal("user-42", result.Reply.Value!.UserName);
        }
    }

    [Fact]
    public async Task A_querys_reply_goes_out_on_a_channel_without_confirms_and_a_commands_on_one_with_them()
    {
        const string serverName = "request-reply-tests-server";
        var (vhost, server, client, _) = await StartAsync(servers, serverSettings: new Dictionary<string, string?> { ["Aspire:RabbitMQ:Client:ConnectionFactory:ClientProvidedName"] = serverName });
        await using (vhost)
        await using (server)
        await using (client)
        {
            var requests = client.Services.GetRequiredService<IRequestClient>();
            Assert.Equal(RequestOutcome.Replied, (await requests.SendAsync(new GetUser(new Actor("tests", "stamp"), "42"), cancellationToken: TestContext.Current.CancellationToken)).Outcome);
            Assert.Equal(RequestOutcome.Replied, (await requests.SendAsync(new DeleteUser(new Actor("tests", "stamp"), "42"), cancellationToken: TestContext.Current.CancellationToken)).Outcome);

            // The server's channels once the broker has sampled them all: the consumer's, the query
            // replies' without confirms, and the command replies' with them. One reply channel for
            // both would be two channels, one of them confirming.
            JsonElement[] channels = [];
            await Wait.UntilAsync(
                async () => (channels = await vhost.ChannelsOfAsync(serverName)).Count(IsConfirming) == 1 && channels.Length >= 3,
                "the broker lists the server's channels with their confirm mode",
                TimeSpan.FromSeconds(30),
                TimeSpan.FromMilliseconds(500));
            Assert.Equal(3, channels.Length);
            Assert.Equal(2, channels.Count(c => !IsConfirming(c)));
        }

        static bool IsConfirming(JsonElement channel) =>
            channel.ValueKind == JsonValueKind.Object && channel.TryGetProperty("confirm", out var confirm) && confirm.ValueKind == JsonValueKind.True;
    }

    [Fact]
    public async Task An_error_reply_comes_back_as_a_reply_with_its_status()
    {
        var (vhost, server, client, _) = await StartAsync(servers);
        await using (vhost)
        await using (server)
        await using (client)
        {
            var result = await client.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "missing"), cancellationToken: TestContext.Current.CancellationToken);

            Assert.Equal(RequestOutcome.Replied, result.Outcome);
            Assert.Equal(ReplyStatus.NotFound, result.Reply!.Status);
            Assert.Equal("User not found", result.Reply.Error!.Title);
        }
    }

    [Fact]
    public async Task A_thousand_concurrent_requests_are_all_answered_and_correlated()
    {
        var (vhost, server, client, _) = await StartAsync(servers);
        await using (vhost)
        await using (server)
        await using (client)
        {
            var requests = client.Services.GetRequiredService<IRequestClient>();
            var options = new RequestOptions { Timeout = TimeSpan.FromSeconds(60) };

            var results = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
                requests.SendAsync(new GetUser(new Actor("tests", "stamp"), $"u{i}"), options, TestContext.Current.CancellationToken)));

            for (var i = 0; i < results.Length; i++)
            {
                Assert.Equal(RequestOutcome.Replied, results[i].Outcome);
                Assert.Equal($"u{i}", results[i].Reply!.Value!.Id);
            }

            Assert.Equal(0, client.Services.GetRequiredService<RequestClient>().PendingCount);
        }
    }

    [Fact]
    public async Task A_reply_that_comes_too_late_times_out_leaves_nothing_pending_and_is_counted_when_it_arrives()
    {
        var (vhost, server, client, script) = await StartAsync(servers);
        await using (vhost)
        await using (server)
        await using (client)
        {
            using var late = new MetricCollector<long>(client.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), MessagingTelemetry.MeterName, "moviedb.messaging.replies.late");
            using var timedOut = new MetricCollector<long>(client.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), MessagingTelemetry.MeterName, "moviedb.messaging.requests.timed_out");
            script.Delay = TimeSpan.FromMilliseconds(1500);
            var requests = client.Services.GetRequiredService<IRequestClient>();

            // A command: it does not expire, so the handler runs and its reply comes after the caller gave up.
            var watch = Stopwatch.StartNew();
            var result = await requests.SendAsync(new DeleteUser(new Actor("admin", "stamp"), "slow"), new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }, TestContext.Current.CancellationToken);
            watch.Stop();

            Assert.Equal(RequestOutcome.TimedOut, result.Outcome);
            Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(3));
            Assert.Equal(0, client.Services.GetRequiredService<RequestClient>().PendingCount);
            Assert.Equal(1, timedOut.GetMeasurementSnapshot().EvaluateAsCounter());

            await Wait.UntilAsync(() => late.GetMeasurementSnapshot().EvaluateAsCounter() == 1, "the late reply is counted");
            Assert.Equal(1, script.CallsFor("slow"));

            // The client still works after dropping the late reply.
            script.Delay = TimeSpan.Zero;
            var next = await requests.SendAsync(new GetUser(new Actor("tests", "stamp"), "after"), cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal(RequestOutcome.Replied, next.Outcome);
        }
    }

    [Fact]
    public async Task A_request_without_a_reachable_broker_is_reported_unavailable_at_once()
    {
        await using var client = await MessagingTestHost.StartAsync("amqp://guest:guest@127.0.0.1:1/", builder => builder.AddRequestClient(UserServiceQueues.Requests),
            new Dictionary<string, string?> { ["Aspire:RabbitMQ:Client:MaxConnectRetryCount"] = "0" },
            waitUntilReady: false);

        var watch = Stopwatch.StartNew();
        var result = await client.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "1"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(RequestOutcome.BrokerUnavailable, result.Outcome);
        // At once, not after the request time-out (5 s); the margin is for a loaded 2-core machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task The_handler_span_continues_the_callers_trace()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is MessagingTelemetry.ActivitySourceName or "moviedb-tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("moviedb-tests");

        var (vhost, server, client, script) = await StartAsync(servers);
        await using (vhost)
        await using (server)
        await using (client)
        {
            using var caller = source.StartActivity("caller");
            Assert.NotNull(caller);

            var result = await client.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "traced"), cancellationToken: TestContext.Current.CancellationToken);

            Assert.Equal(RequestOutcome.Replied, result.Outcome);
            var seen = Assert.Single(script.Seen, s => s.UserId == "traced");
            Assert.Equal(caller.TraceId, seen.TraceId);
        }
    }

    [Fact]
    public async Task A_client_whose_delivery_limit_differs_from_the_queues_still_works()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var script = new HandlerScript();
        await using var server = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(script);
            builder.AddRequestHandlers(UserServiceQueues.Requests).Add<GetUser, UserDto, ScriptedGetUserHandler>();
        }, new Dictionary<string, string?> { ["Messaging:MaxDeliveries"] = "7" }, "userservice");
        await using var client = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests),
            new Dictionary<string, string?> { ["Messaging:MaxDeliveries"] = "3" }, "gateway");

        var result = await client.Services.GetRequiredService<IRequestClient>().SendAsync(new GetUser(new Actor("tests", "stamp"), "mismatch"), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(RequestOutcome.Replied, result.Outcome);
    }
}
