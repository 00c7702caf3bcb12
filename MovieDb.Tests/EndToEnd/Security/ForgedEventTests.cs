using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MovieDb.Messaging;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using MovieDb.Tests.Integration.Movies;
using RabbitMQ.Client;
using UserService.Contracts;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// The movie service deletes an account's movies on the user service's word only: a <c>user.deleted</c>
/// made up by anyone else who may publish to <c>moviedb.events</c> — unsigned, or signed with another
/// key than the events' own (Messaging:EventSigningKey) — is set aside as <c>unauthenticated</c>, and
/// nothing is deleted.
/// </summary>
public sealed class ForgedEventTests(ForgedEventTests.System system) : IClassFixture<ForgedEventTests.System>
{
    public sealed class System(TestServers servers) : InProcessSystem(servers);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_made_up_user_deleted_event_is_dead_lettered_unauthenticated_and_deletes_no_movie()
    {
        var victim = await system.NewUserAsync("victim");
        using var client = victim.CreateClient();
        using (var created = await client.PostAsJsonAsync("/api/movies", MovieHttp.NewMovie("Still here"), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var body = MessageSerializer.Serialize(new UserDeleted(victim.Id, DateTimeOffset.UtcNow));
        BasicProperties Event(string id) => new() { MessageId = id, Type = MessageMetadata.Of<UserDeleted>().Type, ContentType = MessageSerializer.ContentType, Persistent = true };
        var unsigned = Event("unsigned");
        // Signed, but with the requests' key and as a broadcast: what the gateway holds signs no event.
        var otherKey = Event("other-key");
        MessageSignatures.Sign(SignedMessage.Broadcast, otherKey, body, RawMessages.SigningKey, DateTimeOffset.UtcNow);

        await using (var connection = await system.VirtualHost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), Ct))
        {
            foreach (var properties in new[] { unsigned, otherKey })
            {
                await channel.BasicPublishAsync(Topology.EventsExchange, properties.Type!, mandatory: true, properties, body, Ct);
            }
        }

        var deadLetters = Topology.DeadLetterQueueFor("movieservice.events");
        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = [.. dead, .. await RawMessages.DrainAsync(system.VirtualHost, deadLetters)]).Count >= 2, "both made-up events are set aside");
        Assert.Equal(["other-key", "unsigned"], dead.Select(m => m.BasicProperties.MessageId!).Order(StringComparer.Ordinal));
        Assert.All(dead, m => Assert.Equal("unauthenticated", RawMessages.Header(m, Topology.DeadLetterReasonHeader)));

        var page = await client.GetFromJsonAsync<JsonElement>("/api/movies", Ct);
        Assert.Equal(1, page.GetProperty("totalCount").GetInt64());
    }
}
