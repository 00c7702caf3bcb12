using System.Net;
using System.Net.Http.Headers;
using Gateway.Auth;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using UserService.Contracts;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>
/// How the gateway looks an account's rights up, where the answer and the news of a change race, and
/// where the user service cannot be asked.
/// </summary>
public sealed class RightsLookupTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private sealed class System(TestServers servers) : InProcessSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?>
        {
            ["Jwt:SecurityStateRefreshInterval"] = RefreshInterval.ToString(),
        };
    }

    /// <summary>Plays the user service's part for <see cref="GetSecurityState"/>: answers what it is told, when it is told.</summary>
    private sealed class HeldAnswers
    {
        public Queue<(SecurityState State, TaskCompletionSource Release)> Script { get; } = new();

        public TaskCompletionSource<string> Asked { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class HeldSecurityStateHandler(HeldAnswers answers) : IRequestHandler<GetSecurityState, SecurityState>
    {
        public async Task<Reply<SecurityState>> HandleAsync(GetSecurityState request, RequestContext context, CancellationToken cancellationToken)
        {
            var (state, release) = answers.Script.Dequeue();
            answers.Asked.TrySetResult(request.UserId);
            await release.Task.WaitAsync(cancellationToken);
            return Reply<SecurityState>.Ok(state);
        }
    }

    [Fact]
    public async Task An_answer_read_before_a_newer_broadcast_arrives_does_not_give_back_the_admin_rights_the_broadcast_took()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();

        // The user service's part is played here, one question at a time, so that an answer can be held
        // while the news of a change arrives.
        await system.StopUserServiceAsync();
        var answers = new HeldAnswers();
        await using var userService = await MessagingTestHost.StartAsync(system.VirtualHost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(answers);
            builder.AddRequestHandlers(UserServiceQueues.Requests).Add<GetSecurityState, SecurityState, HeldSecurityStateHandler>();
        }, new Dictionary<string, string?> { ["Messaging:ConsumerConcurrency"] = "1" }, applicationName: "userservice");

        const string UserId = "racing-admin";
        const string StampHash = "5a17";
        var admin = new SecurityState(UserId, StampHash, ["admin", "user"], Version: 4);
        var demoted = new SecurityState(UserId, StampHash, ["user"], Version: 5);
        using var client = system.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Create(UserId, roles: ["admin", "user"], stamp: StampHash));

        // An admin, as the user service says.
        answers.Script.Enqueue((admin, Released()));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/movies?owner=all", Ct)).StatusCode);

        // Once the entry is due again, the next request asks; the answer (still an admin: read before
        // the demotion) is held while the demotion's broadcast reaches this gateway (the same call its
        // broadcast consumer makes, so that the order is certain).
        await Task.Delay(RefreshInterval + TimeSpan.FromMilliseconds(200), Ct);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        answers.Asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        answers.Script.Enqueue((admin, release));
        var asking = client.GetAsync("/api/movies?owner=all", Ct);
        Assert.Equal(UserId, await answers.Asked.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        system.Gateway.Services.GetRequiredService<UserSecurityCache>().Apply(
            new UserSecurityChanged(UserId, StampHash, demoted.Roles, Deleted: false, demoted.Version, DateTimeOffset.UtcNow));
        release.SetResult();

        // The older answer does not overwrite the newer news: no admin rights.
        using var raced = await asking;
        await ProblemAssert.IsProblemAsync(raced, HttpStatusCode.Forbidden);

        // And the next question settles it.
        answers.Script.Enqueue((demoted, Released()));
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/movies?owner=all", Ct), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/movies", Ct)).StatusCode);

        // The same race with a sign-in's or a refresh's answer (the gateway applies the state it carries):
        // promoted at version 6, demoted again at 7; the answer of a sign-in read at 6 arrives after the
        // news of 7 and does not make an admin of the account again.
        var cache = system.Gateway.Services.GetRequiredService<UserSecurityCache>();
        var demotedAgain = new SecurityState(UserId, StampHash, ["user"], Version: 7);
        cache.Apply(new UserSecurityChanged(UserId, StampHash, demotedAgain.Roles, Deleted: false, demotedAgain.Version, DateTimeOffset.UtcNow));
        cache.Apply(new SecurityState(UserId, StampHash, ["admin", "user"], Version: 6));
        answers.Script.Enqueue((demotedAgain, Released()));
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/movies?owner=all", Ct), HttpStatusCode.Forbidden);

        // Two answers out of order: a look-up (or a sign-in) answered at version 9, demoted; a slower one
        // read at 8, still an admin, arrives after it and changes nothing.
        cache.Apply(new SecurityState(UserId, StampHash, ["user"], Version: 9));
        cache.Apply(new SecurityState(UserId, StampHash, ["admin", "user"], Version: 8));
        await ProblemAssert.IsProblemAsync(await client.GetAsync("/api/movies?owner=all", Ct), HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task A_gateway_that_knows_nothing_of_an_account_and_cannot_ask_answers_503_and_never_takes_an_ended_token_on_trust()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();
        var leaver = await system.NewUserAsync("leaver");
        var stayer = await system.NewUserAsync("stayer");
        using var leaverHere = leaver.CreateClient();
        using var stayerHere = stayer.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await stayerHere.GetAsync("/api/movies", Ct)).StatusCode);

        // The leaver signs out everywhere; then a gateway starts that never heard of either account,
        // and the user service stops.
        Assert.Equal(HttpStatusCode.NoContent, (await leaverHere.DeleteAsync($"/api/users/{leaver.Id}/sessions", Ct)).StatusCode);
        await Wait.UntilAsync(async () => (await leaverHere.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.Unauthorized, "the first gateway hears of the sign-out");
        await using var fresh = await system.StartAnotherGatewayAsync();
        await system.StopUserServiceAsync();
        using var leaverThere = fresh.CreateClient();
        leaverThere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", leaver.Tokens.AccessToken);
        using var stayerThere = fresh.CreateClient();
        stayerThere.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", stayer.Tokens.AccessToken);

        // The fresh gateway cannot tell an ended token from a good one: neither is accepted, both may
        // try again. The gateway that heard of the sign-out still refuses the ended one, and still
        // serves the one it knows (without admin rights, which it cannot confirm).
        // Someone who kept a copy of an old broadcast about the leaver (signed, so it passes) sends it
        // again: it says what the stamp was before the sign-out, but the user service never vouched for
        // it here, so it does not make the ended token good.
        var oldStampHash = new JsonWebToken(leaver.Tokens.AccessToken).GetClaim("sst").Value;
        fresh.Services.GetRequiredService<UserSecurityCache>().Apply(new UserSecurityChanged(leaver.Id, oldStampHash, ["user"], Deleted: false, Version: 1, DateTimeOffset.UtcNow.AddDays(-1)));

        foreach (var client in new[] { leaverThere, stayerThere })
        {
            using var unknown = await client.GetAsync("/api/movies", Ct);
            await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(RightsUnavailableException.RetryAfter, unknown.Headers.RetryAfter?.Delta);
        }

        await ProblemAssert.IsProblemAsync(await leaverHere.GetAsync("/api/movies", Ct), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await stayerHere.GetAsync("/api/movies", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await system.CreateClient().GetAsync("/openapi/v1.json", Ct)).StatusCode);

        // Once the user service answers again, the fresh gateway knows: the ended token is refused, the good one served.
        await system.StartUserServiceAsync();
        await Wait.UntilAsync(async () => (await leaverThere.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.Unauthorized, "the ended token is refused");
        await Wait.UntilAsync(async () => (await stayerThere.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.OK, "the good token is served");
    }

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource();
        released.SetResult();
        return released;
    }
}
