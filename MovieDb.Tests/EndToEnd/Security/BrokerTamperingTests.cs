using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using MovieDb.Messaging;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using RabbitMQ.Client;
using UserService.Contracts;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// Someone who can read and publish on the broker (a leaked broker password, a compromised service)
/// against the requests the gateway queues for the user service: what they change is refused and set
/// aside with its reason; what they send again unchanged is carried out once.
/// </summary>
public sealed class BrokerTamperingTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class System(TestServers servers) : InProcessSystem(servers)
    {
        // A command the user service cannot answer in a second is accepted (202) and stays queued.
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?> { ["Messaging:RequestTimeout"] = "00:00:01" };
    }

    [Fact]
    public async Task A_queued_role_change_captured_altered_and_republished_is_dead_lettered_unauthenticated_and_grants_nothing()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();
        var admin = await system.SignInAsAdminAsync();
        var colleague = await system.NewUserAsync("colleague");
        var attacker = await system.NewUserAsync("attacker");
        using var adminClient = admin.CreateClient();

        // The user service is down: the admin's promotion of a colleague waits in users.requests.
        await system.StopUserServiceAsync();
        using var promoted = await adminClient.PutAsJsonAsync($"/api/users/{colleague.Id}", new { roles = new[] { "admin", "user" } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, promoted.StatusCode);

        // The attacker takes it off the queue, keeps a copy, points it at their own account and puts
        // both back, with every property and header (the signature included) as they were.
        await using (var connection = await system.VirtualHost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), Ct))
        {
            var captured = await channel.BasicGetAsync(UserServiceQueues.Requests.Commands, autoAck: true, Ct);
            Assert.NotNull(captured);
            Assert.Equal("users.update", captured.BasicProperties.Type);
            var body = JsonNode.Parse(captured.Body.Span)!;
            Assert.Equal(colleague.Id, (string?)body["userId"]);
            body["userId"] = attacker.Id;

            var altered = new BasicProperties(captured.BasicProperties) { MessageId = Guid.NewGuid().ToString() };
            await channel.BasicPublishAsync(string.Empty, UserServiceQueues.Requests.Commands, mandatory: true, altered, Encoding.UTF8.GetBytes(body.ToJsonString()), Ct);
            // The same body under the original id, too: an id the user service will have carried out
            // must not let a changed body through either.
            var sameId = new BasicProperties(captured.BasicProperties);
            await channel.BasicPublishAsync(string.Empty, UserServiceQueues.Requests.Commands, mandatory: true, sameId, Encoding.UTF8.GetBytes(body.ToJsonString()), Ct);
            await channel.BasicPublishAsync(string.Empty, UserServiceQueues.Requests.Commands, mandatory: true, new BasicProperties(captured.BasicProperties), captured.Body, Ct);
        }

        // The user service returns: it carries out the genuine command and refuses both altered ones.
        await system.StartUserServiceAsync();
        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = [.. dead, .. await RawMessages.DrainAsync(system.VirtualHost, UserServiceQueues.Requests.DeadLetters)]).Count >= 2, "two dead letters");
        Assert.All(dead, letter =>
        {
            Assert.Equal("unauthenticated", RawMessages.Header(letter, Topology.DeadLetterReasonHeader));
            Assert.Contains("does not match", RawMessages.Header(letter, Topology.DeadLetterDetailHeader), StringComparison.Ordinal);
        });

        await Wait.UntilAsync(async () => (await Wait.UntilReadAsync<UserJson>(adminClient, $"/api/users/{colleague.Id}")).Roles.Contains("admin"), "the genuine promotion is carried out");
        using var colleagueClient = (await system.SignInAsync(colleague.UserName, colleague.Password, colleague.Id)).CreateClient();
        using var attackerClient = (await system.SignInAsync(attacker.UserName, attacker.Password, attacker.Id)).CreateClient();
        using var colleagueList = await Wait.UntilAnsweredAsync(ct => colleagueClient.GetAsync("/api/users", ct), "the colleague lists the users", HttpStatusCode.GatewayTimeout);
        Assert.Equal(HttpStatusCode.OK, colleagueList.StatusCode);
        await ProblemAssert.IsProblemAsync(await attackerClient.GetAsync("/api/users", Ct), HttpStatusCode.Forbidden);
        var stored = await Wait.UntilReadAsync<UserJson>(adminClient, $"/api/users/{attacker.Id}");
        Assert.Equal(["user"], stored.Roles);
        Assert.Equal(0u, await system.VirtualHost.MessageCountAsync(UserServiceQueues.Requests.Commands));
    }
}
