using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;

namespace MovieDb.Tests.Integration.Faults;

/// <summary>
/// The broker and the database restarted under a running system: during the outage requests fail
/// fast with 503 problem details (never a hang past the time-out, never a 500); afterwards every
/// service recovers by itself, with no manual step and no process restart.
/// </summary>
[Collection(ServerRestarts.Name)]
public sealed class ServerRestartFaultTests(TestServers servers)
{
    private static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class System(TestServers servers) : ProcessSystem(servers)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Messaging__RequestTimeout"] = "00:00:03",
            ["Database__MaxRetryCount"] = "2",
            ["Database__MaxRetryDelay"] = "00:00:01",
        };
    }

    private static async Task<(HttpResponseMessage Response, TimeSpan Took)> TimedAsync(Func<Task<HttpResponseMessage>> call)
    {
        var watch = Stopwatch.StartNew();
        var response = await call();
        return (response, watch.Elapsed);
    }

    [Fact]
    public async Task When_RabbitMQ_restarts_user_requests_get_503_and_every_service_recovers_by_itself()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();
        using var anonymous = system.CreateClient();
        var (movie, _) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Before the outage"), "/api/movies");

        await ServerControl.StopAsync("rabbitmq");
        try
        {
            await Wait.UntilHealthAsync(anonymous, "the gateway sees the broker gone", "Degraded");
            var (me, meTook) = await TimedAsync(() => client.GetAsync("/api/users/me", Ct));
            var (login, loginTook) = await TimedAsync(() => anonymous.PostAsJsonAsync("/api/auth/login", new { userName = user.UserName, password = user.Password }, Ct));
            var (register, registerTook) = await TimedAsync(() => anonymous.PostAsJsonAsync("/api/auth/register", new { userName = "duringoutage", email = "during@example.test", password = "s3cret-passw0rd" }, Ct));

            foreach (var (response, took) in new[] { (me, meTook), (login, loginTook), (register, registerTook) })
            {
                await ProblemAssert.IsProblemAsync(response, HttpStatusCode.ServiceUnavailable);
                Assert.True(took < TimeSpan.FromSeconds(3), $"took {took}, longer than the request time-out");
            }

            // Movies do not depend on the broker.
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/movies/{movie.Id}", Ct)).StatusCode);
        }
        finally
        {
            await ServerControl.StartAsync("rabbitmq");
        }

        var recovery = Stopwatch.StartNew();
        foreach (var service in new[] { system.Gateway, system.MovieService, system.UserServices[0] })
        {
            using var health = new HttpClient { BaseAddress = service.BaseAddress };
            await Wait.UntilHealthAsync(health, $"{service.Name} recovers by itself", timeout: RecoveryBound);
        }

        await Wait.UntilAsync(async () => (await client.GetAsync("/api/users/me", Ct)).StatusCode == HttpStatusCode.OK, "users are served again", RecoveryBound);
        var recovered = recovery.Elapsed;

        // The whole path works again, events included: deleting a user removes their movies.
        var later = await system.NewUserAsync("later");
        using var laterClient = later.CreateClient();
        await MovieHttp.CreateAsync(laterClient, path: "/api/movies");
        var admin = await system.SignInAsAdminAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.CreateClient().DeleteAsync($"/api/users/{later.Id}", Ct)).StatusCode);
        await Wait.UntilAsync(async () => await system.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE OwnerId = @id", ("@id", later.Id)) == 0, "the event consumer works again", RecoveryBound);
        Assert.All(new[] { system.Gateway, system.MovieService, system.UserServices[0] }, p => Assert.False(p.HasExited));

        FaultReport.Record(nameof(When_RabbitMQ_restarts_user_requests_get_503_and_every_service_recovers_by_itself),
            $"during the outage /api/users/me, login and register answered 503; all services healthy and users served {recovered.TotalSeconds:F1} s after the broker was back");
    }

    [Fact]
    public async Task When_MariaDB_restarts_movie_requests_get_503_nothing_is_half_written_and_the_service_recovers_by_itself()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();
        var (before, _) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Before the outage"), "/api/movies");

        await ServerControl.StopAsync("mariadb");
        try
        {
            var (read, readTook) = await TimedAsync(() => client.GetAsync("/api/movies", Ct));
            var (write, writeTook) = await TimedAsync(() => client.PostAsJsonAsync("/api/movies", MovieHttp.NewMovie("During the outage", genres: ["A", "B", "C"]), Ct));

            await ProblemAssert.IsProblemAsync(read, HttpStatusCode.ServiceUnavailable);
            await ProblemAssert.IsProblemAsync(write, HttpStatusCode.ServiceUnavailable);
            Assert.NotNull(read.Headers.RetryAfter);
            Assert.True(readTook < TimeSpan.FromSeconds(15) && writeTook < TimeSpan.FromSeconds(15), $"read took {readTook}, write {writeTook}");
        }
        finally
        {
            await ServerControl.StartAsync("mariadb");
        }

        var recovery = Stopwatch.StartNew();
        await Wait.UntilAsync(async () => (await client.GetAsync("/api/movies", Ct)).StatusCode == HttpStatusCode.OK, "movies are served again", RecoveryBound);
        var recovered = recovery.Elapsed;

        var (after, _) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("After the outage", genres: ["X", "Y"]), "/api/movies");
        var list = await client.GetFromJsonAsync<MoviePageJson>("/api/movies?sort=created", Ct);
        Assert.Equal([before.Id, after.Id], list!.Items.Select(m => m.Id));

        // No half-written movie anywhere: every movie has all its genres, no genre lacks its movie.
        Assert.Equal(0L, await system.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE Title = 'During the outage'"));
        Assert.Equal(0L, await system.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movie_genres g LEFT JOIN movies m ON m.Id = g.MovieId WHERE m.Id IS NULL"));
        Assert.Equal(4L, await system.Database.ScalarAsync<long>("SELECT COUNT(*) FROM movie_genres"));
        using var health = new HttpClient { BaseAddress = system.MovieService.BaseAddress };
        await Wait.UntilHealthAsync(health, "the movie service is healthy again", timeout: RecoveryBound);
        Assert.False(system.MovieService.HasExited);

        FaultReport.Record(nameof(When_MariaDB_restarts_movie_requests_get_503_nothing_is_half_written_and_the_service_recovers_by_itself),
            $"during the outage reads and writes answered 503; movies served {recovered.TotalSeconds:F1} s after MariaDB was back; no half-written movie");
    }
}
