using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LiteDB;
using MovieDb.Messaging;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using RabbitMQ.Client;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Faults;

/// <summary>Poison messages and a slow consumer, against the real user service process.</summary>
public sealed class UserServiceMessageFaultTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class System(TestServers servers, IDictionary<string, string?> settings) : ProcessSystem(servers)
    {
        protected override IDictionary<string, string?> Settings => settings;
    }

    // Signed with the gateway's key unless told otherwise: poison from the gateway itself (a bug), not a forgery.
    private static Task PublishRawAsync(TestVirtualHost vhost, string? type, string body, string messageId, bool signed = true) =>
        RawMessages.PublishAsync(vhost, UserServiceQueues.Requests.Commands,
            new BasicProperties { MessageId = messageId, Type = type, ContentType = "application/json", Persistent = true }, Encoding.UTF8.GetBytes(body), signed);

    [Fact]
    public async Task Poison_messages_are_dead_lettered_with_a_reason_while_good_requests_keep_flowing()
    {
        await using var system = new System(servers, new Dictionary<string, string?> { ["Messaging__MaxDeliveries"] = "3" });
        await system.InitializeAsync();

        await PublishRawAsync(system.VirtualHost, "users.register", "{this is not json", "poison-unparseable");
        await PublishRawAsync(system.VirtualHost, "users.frobnicate", "{}", "poison-unknown-type");
        await PublishRawAsync(system.VirtualHost, "users.register", """{"userName":{"nested":true},"email":5}""", "poison-wrong-shape");
        await PublishRawAsync(system.VirtualHost, null, "{}", "poison-no-type");
        await PublishRawAsync(system.VirtualHost, "users.register", """{"userName":"forged","email":"forged@example.test","password":"s3cret-passw0rd"}""", "poison-unsigned", signed: false);
        var good = await system.NewUserAsync("flowing");

        var dead = new Dictionary<string, string>();
        await Wait.UntilAsync(async () =>
        {
            await using var connection = await system.VirtualHost.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
            while (await channel.BasicGetAsync(UserServiceQueues.Requests.DeadLetters, autoAck: true, Ct) is { } message)
            {
                dead[message.BasicProperties.MessageId!] = Encoding.UTF8.GetString((byte[])message.BasicProperties.Headers![Topology.DeadLetterReasonHeader]!);
            }

            return dead.Count == 5;
        }, "five dead letters");

        Assert.Equal("unparseable", dead["poison-unparseable"]);
        Assert.Equal("unknown-type", dead["poison-unknown-type"]);
        Assert.Equal("unparseable", dead["poison-wrong-shape"]);
        Assert.Equal("unknown-type", dead["poison-no-type"]);
        Assert.Equal("unauthenticated", dead["poison-unsigned"]);
        Assert.Equal(0u, await system.VirtualHost.MessageCountAsync(UserServiceQueues.Requests.Commands));
        using var client = good.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/users/me", Ct)).StatusCode);
        using var anonymous = system.CreateClient();
        using var forged = await anonymous.PostAsJsonAsync("/api/auth/login", new { userName = "forged", password = "s3cret-passw0rd" }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        FaultReport.Record(nameof(Poison_messages_are_dead_lettered_with_a_reason_while_good_requests_keep_flowing),
            "unparseable, wrong-shape, unknown-type, type-less and unsigned messages dead-lettered at once with their reason; a registration and a read sent after them answered normally");
    }

    [Fact]
    public async Task A_user_service_slower_than_the_time_out_answers_queries_504_in_time_never_processes_them_late_and_processes_commands_once()
    {
        // The user service stalls (SIGSTOP) for longer than the gateway's one-second time-out, one message
        // at a time: a stall of a known length, on a fast machine as on a slow one.
        await using var system = new System(servers, new Dictionary<string, string?>
        {
            ["Messaging__RequestTimeout"] = "00:00:01",
            ["Messaging__ConsumerConcurrency"] = "1",
        });
        await system.InitializeAsync();
        using var client = system.CreateClient();
        var userService = system.UserServices[0];
        await userService.PauseAsync();

        using var register = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register")
        {
            Content = JsonContent.Create(new { userName = "slowpoke", email = "slowpoke@example.test", password = "s3cret-passw0rd" }),
        };
        register.Headers.Add("Idempotency-Key", "slow-registration-000001");
        var watch = Stopwatch.StartNew();
        using var registered = await client.SendAsync(register, Ct);
        var registerTook = watch.Elapsed;
        Assert.Equal(HttpStatusCode.Accepted, registered.StatusCode);
        Assert.True(registerTook < TimeSpan.FromSeconds(4), $"register took {registerTook}");

        var logins = await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ =>
        {
            var started = Stopwatch.StartNew();
            var response = await client.PostAsJsonAsync("/api/auth/login", new { userName = "slowpoke", password = "s3cret-passw0rd" }, Ct);
            return (response, started.Elapsed);
        }));
        foreach (var (response, took) in logins)
        {
            await ProblemAssert.IsProblemAsync(response, HttpStatusCode.GatewayTimeout);
            Assert.True(took < TimeSpan.FromSeconds(4), $"a query took {took}");
        }

        // Every sign-in's deadline has passed (each expires one second after it was sent) when the user
        // service goes on; the queries may already sit in its prefetch buffer, past the broker's expiry.
        var stalled = watch.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        await userService.ResumeAsync();

        // The command is processed, once.
        // The status query waits in line behind the slow handler too: a 504 means "ask again".
        await Wait.UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/api/auth/registrations/slow-registration-000001", Ct);
            return response.StatusCode == HttpStatusCode.OK
                && (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString() == "succeeded";
        }, "the registration succeeds", TimeSpan.FromSeconds(90), TimeSpan.FromMilliseconds(500));
        await Wait.UntilAsync(async () => await system.VirtualHost.MessageCountAsync(UserServiceQueues.Requests.Queries) == 0, "the queries are gone", TimeSpan.FromSeconds(60));

        // Not one of the timed-out sign-ins opened a session: none was processed after its caller gave up.
        using (var store = new LiteDatabase($"Filename={system.UsersFile};Connection=shared"))
        {
            Assert.Equal(1, store.GetCollection("users").Count(Query.EQ("UserName", "slowpoke")));
            Assert.Equal(0, store.GetCollection("refresh_tokens").Count());
        }

        FaultReport.Record(nameof(A_user_service_slower_than_the_time_out_answers_queries_504_in_time_never_processes_them_late_and_processes_commands_once),
            $"user service stalled {stalled.TotalSeconds + 2:F1} s: register answered 202 in {registerTook.TotalSeconds:F1} s (time-out 1 s); 5 sign-ins answered 504 in at most {logins.Max(l => l.Elapsed).TotalSeconds:F1} s; none processed later (0 sessions); the registration succeeded once");
    }
}
