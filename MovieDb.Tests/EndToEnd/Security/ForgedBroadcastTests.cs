using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using MovieDb.Messaging.Events;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using UserService.Contracts;
using UserService.Model;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// The broker cannot prove who sent a broadcast: anyone who may publish to <c>moviedb.broadcast</c>
/// can tell the gateways an account is an admin. Only the user service should have that right (see
/// docs/reliability.md); if it leaks, what a forged broadcast grants lasts until the gateway's next
/// refresh from the user service, never longer.
/// </summary>
public sealed class ForgedBroadcastTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private const string EveryonesMovies = "/api/movies?owner=all";

    private sealed class System(TestServers servers) : ProcessSystem(servers)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Jwt__SecurityStateRefreshInterval"] = RefreshInterval.ToString(),
        };
    }

    [Fact]
    public async Task A_forged_broadcast_granting_admin_rights_lasts_no_longer_than_the_next_refresh()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();

        // Connected first: the forged broadcast must land within one refresh interval of the sign-in.
        await using var broker = await MessagingTestHost.StartAsync(system.VirtualHost.ConnectionString, builder => builder.AddEventPublisher(), applicationName: "forger");
        var user = await system.NewUserAsync("forger");
        using var client = user.CreateClient();
        await ProblemAssert.IsProblemAsync(await client.GetAsync(EveryonesMovies, Ct), HttpStatusCode.Forbidden);

        // The forger reads its own stamp from its token and has (leaked) rights to publish broadcasts.
        var stamp = new JsonWebToken(user.Tokens.AccessToken).GetClaim("sst").Value;
        await broker.Services.GetRequiredService<IEventPublisher>().BroadcastAsync(
            new UserSecurityChanged(user.Id, User.StampHash(stamp), [Role.Admin, Role.User], Deleted: false, Version: long.MaxValue - 1, DateTimeOffset.UtcNow),
            Ct);

        // Believed by the gateway at first (that is what a real broadcast is for), so the movie service
        // is told the caller is an admin; the user service, which decides on the stored account, is not fooled.
        await Wait.UntilAsync(async () => (await client.GetAsync(EveryonesMovies, Ct)).StatusCode == HttpStatusCode.OK, "the gateway applies the broadcast");
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/users", Ct), HttpStatusCode.Forbidden);

        // The next refresh from the user service ends it, for good.
        await Wait.UntilAsync(async () => (await client.GetAsync(EveryonesMovies, Ct)).StatusCode == HttpStatusCode.Forbidden, "the next refresh ends the forged rights", RefreshInterval * 3);
        for (var i = 0; i < 3; i++)
        {
            await Task.Delay(RefreshInterval / 2, Ct);
            await ProblemAssert.IsProblemAsync(await client.GetAsync(EveryonesMovies, Ct), HttpStatusCode.Forbidden);
        }

        // The account itself was never changed.
        using var admin = (await system.SignInAsAdminAsync()).CreateClient();
        var stored = await admin.GetFromJsonAsync<UserJson>($"/api/users/{user.Id}", Ct);
        Assert.Equal(["user"], stored!.Roles);
    }
}
