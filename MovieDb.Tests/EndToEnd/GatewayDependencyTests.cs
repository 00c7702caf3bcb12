using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Gateway;
using Microsoft.Extensions.Hosting;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>What the gateway answers when what it depends on is away.</summary>
public sealed class GatewayDependencyTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class FastTimeoutSystem(TestServers servers) : InProcessSystem(servers)
    {
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?> { ["Messaging:RequestTimeout"] = "00:00:01" };
    }

    [Fact]
    public async Task With_the_user_service_stopped_reads_are_504_in_time_and_a_registration_is_202_then_succeeds_when_it_returns()
    {
        await using var system = new FastTimeoutSystem(servers);
        await system.InitializeAsync();
        var user = await system.NewUserAsync();
        await system.StopUserServiceAsync();

        using var client = user.CreateClient();
        var watch = Stopwatch.StartNew();
        using var me = await client.GetAsync("/api/users/me", Ct);
        watch.Stop();
        await ProblemAssert.IsProblemAsync(me, HttpStatusCode.GatewayTimeout);
        // The time-out (1 s), not a hang; the margin is for a loaded 2-core machine.
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));

        using var anonymous = system.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register")
        {
            Content = JsonContent.Create(new { userName = "latecomer", email = "latecomer@example.test", password = "s3cret-passw0rd" }),
        };
        request.Headers.Add("Idempotency-Key", "latecomer-registration-0001");
        using var register = await anonymous.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, register.StatusCode);
        Assert.Equal("/api/auth/registrations/latecomer-registration-0001", register.Headers.Location?.OriginalString);

        // Any command answered 202 says where its outcome will be told.
        using var update = await client.PutAsJsonAsync($"/api/users/{user.Id}", new { email = $"later-{user.UserName}@example.test", currentPassword = user.Password }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, update.StatusCode);
        Assert.StartsWith("/api/commands/", update.Headers.Location?.OriginalString, StringComparison.Ordinal);

        // Movies do not need the user service.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/movies", Ct)).StatusCode);

        await system.StartUserServiceAsync();
        JsonElement updated = default;
        await Wait.UntilAsync(async () =>
        {
            using var response = await client.GetAsync(update.Headers.Location, Ct);
            updated = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            return response.IsSuccessStatusCode && updated.GetProperty("status").GetString() == "succeeded";
        }, "the queued update succeeds");
        Assert.Equal($"later-{user.UserName}@example.test", updated.GetProperty("user").GetProperty("email").GetString());

        // Someone else's command is not theirs to read.
        var other = await system.NewUserAsync("nosy");
        using var nosy = other.CreateClient();
        var foreign = await nosy.GetFromJsonAsync<JsonElement>(update.Headers.Location, Ct);
        Assert.Equal("pending", foreign.GetProperty("status").GetString());
        JsonElement status = default;
        await Wait.UntilAsync(async () =>
        {
            using var response = await anonymous.GetAsync(register.Headers.Location, Ct);
            status = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            return response.IsSuccessStatusCode && status.GetProperty("status").GetString() == "succeeded";
        }, "the queued registration succeeds");
        Assert.Equal("latecomer", status.GetProperty("user").GetProperty("userName").GetString());
        await system.SignInAsync("latecomer", "s3cret-passw0rd", null);
    }

    [Fact]
    public async Task A_failed_registration_reports_failed_with_the_problem()
    {
        await using var system = new InProcessSystem(servers);
        await system.InitializeAsync();
        using var anonymous = system.CreateClient();
        await system.NewUserAsync("taken");

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register") { Content = JsonContent.Create(new { userName = "admin", email = "x@example.test", password = "s3cret-passw0rd" }) };
        request.Headers.Add("Idempotency-Key", "conflicting-registration-01");
        using var register = await anonymous.SendAsync(request, Ct);
        await ProblemAssert.IsProblemAsync(register, HttpStatusCode.Conflict);

        var status = await anonymous.GetFromJsonAsync<JsonElement>("/api/auth/registrations/conflicting-registration-01", Ct);
        Assert.Equal("failed", status.GetProperty("status").GetString());
        Assert.Equal(409, status.GetProperty("problem").GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Without_the_broker_user_requests_are_503_at_once_and_movies_still_work()
    {
        await using var system = new InProcessSystem(servers);
        await system.InitializeAsync();
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();

        // Deleting the virtual host drops every connection to it and refuses new ones: for these
        // services the broker is gone, while other tests keep theirs.
        await system.VirtualHost.DisposeAsync();
        await Wait.UntilHealthAsync(system.CreateClient(), "the gateway notices", "Degraded");

        var watch = Stopwatch.StartNew();
        using var me = await client.GetAsync("/api/users/me", Ct);
        using var register = await system.CreateClient().PostAsJsonAsync("/api/auth/register", new { userName = "nobroker", email = "nobroker@example.test", password = "s3cret-passw0rd" }, Ct);
        using var login = await system.CreateClient().PostAsJsonAsync("/api/auth/login", new { userName = user.UserName, password = user.Password }, Ct);
        watch.Stop();

        await ProblemAssert.IsProblemAsync(me, HttpStatusCode.ServiceUnavailable);
        await ProblemAssert.IsProblemAsync(register, HttpStatusCode.ServiceUnavailable);
        await ProblemAssert.IsProblemAsync(login, HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(me.Headers.RetryAfter);
        // At once, not after a request time-out (5 s) each; the margin is for a loaded 2-core machine.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), $"took {watch.Elapsed}");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/movies", Ct)).StatusCode);
    }

    [Fact]
    public async Task With_the_movie_service_unreachable_movie_routes_are_503_problem_details()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        // The user service's part: the caller's rights (the gateway checks them before proxying).
        await using var userService = await Integration.Messaging.MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
            builder.AddRequestHandlers(UserService.Contracts.UserServiceQueues.Requests)
                .Add<UserService.Contracts.GetSecurityState, UserService.Contracts.SecurityState, Integration.Messaging.UserRightsSecurityStateHandler>(), applicationName: "userservice");
        await using var gateway = new ServiceFactory<GatewayApp>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = vhost.ConnectionString,
            ["services:movieservice:http:0"] = $"http://127.0.0.1:{ServiceProcess.FreePort()}",
            ["Jwt:SigningKey"] = InProcessSystem.SigningKey,
            ["GatewayIdentity:SigningKey"] = InProcessSystem.IdentityKey,
            ["Messaging:SigningKey"] = InProcessSystem.MessagingSigningKey,
        });
        using var client = gateway.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = "moviedb",
            Audience = "moviedb-api",
            Expires = DateTime.UtcNow.AddMinutes(5),
            Claims = new Dictionary<string, object> { ["sub"] = "u1", ["unique_name"] = "u1", ["role"] = "user" },
            SigningCredentials = new(new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(InProcessSystem.SigningKey)), "HS256"),
        }));

        using var list = await client.GetAsync("/api/movies", Ct);
        using var create = await client.PostAsJsonAsync("/api/movies", Integration.Movies.MovieHttp.NewMovie(), Ct);

        var problem = await ProblemAssert.IsProblemAsync(list, HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Movie service unavailable", problem.GetProperty("title").GetString());
        Assert.DoesNotContain("127.0.0.1", await list.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        await ProblemAssert.IsProblemAsync(create, HttpStatusCode.ServiceUnavailable);
    }
}
