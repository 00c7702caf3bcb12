using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using MovieDb.Tests.Integration.Users;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>Start-up, migrations, readiness and the user.deleted consumer of the movie service.</summary>
public sealed class MovieServiceLifecycleTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task On_an_empty_server_the_service_creates_the_database_migrates_it_and_only_then_reports_ready()
    {
        await using var database = await servers.MariaDb.ReserveDatabaseAsync();
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var service = MovieServiceFixture.Create(database.ConnectionString, vhost.ConnectionString);
        using var client = service.CreateClient();

        await Wait.UntilAsync(async () => (await client.GetAsync("/health", Ct)).StatusCode == HttpStatusCode.OK, "the service becomes ready");

        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT COUNT(*) FROM __EFMigrationsHistory WHERE MigrationId LIKE '%_InitialCreate'"));
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('movies', 'movie_genres')"));
        Assert.Equal("utf8mb4_unicode_ci", await database.ScalarAsync<string>("SELECT table_collation FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'movies'"));
    }

    [Fact]
    public async Task Two_instances_starting_at_once_on_an_empty_database_both_become_ready_and_migrate_once()
    {
        await using var database = await servers.MariaDb.CreateDatabaseAsync();
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();

        var starting = await Task.WhenAll(
            Task.Run(() => MovieServiceFixture.Create(database.ConnectionString, vhost.ConnectionString), Ct),
            Task.Run(() => MovieServiceFixture.Create(database.ConnectionString, vhost.ConnectionString), Ct));
        await using var first = starting[0];
        await using var second = starting[1];

        foreach (var service in starting)
        {
            using var client = service.CreateClient();
            await Wait.UntilAsync(async () => (await client.GetAsync("/health", Ct)).StatusCode == HttpStatusCode.OK, "both instances become ready");
        }

        // Every migration of the service applied, each once.
        using (var scope = first.Services.CreateScope())
        {
            var migrations = scope.ServiceProvider.GetRequiredService<MovieService.Infrastructure.MovieDbContext>().Database.GetMigrations().Count();
            Assert.Equal(migrations, await database.ScalarAsync<long>("SELECT COUNT(*) FROM __EFMigrationsHistory"));
        }

        using var writer = first.CreateClient();
        MovieServiceFixture.ActAs(writer, "u1");
        Assert.Equal(HttpStatusCode.Created, (await writer.PostAsJsonAsync("/movies", MovieHttp.NewMovie(), Ct)).StatusCode);
    }

    [Fact]
    public async Task While_the_database_is_unreachable_readiness_fails_and_liveness_does_not()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var nowhere = $"Server=127.0.0.1;Port={ServiceProcess.FreePort()};User ID=nobody;Password=x;Database=moviedb;Connect Timeout=1";
        await using var service = MovieServiceFixture.Create(nowhere, vhost.ConnectionString, new Dictionary<string, string?> { ["Database:ServerVersion"] = "10.11.0-mariadb" });
        using var client = service.CreateClient();

        using var health = await client.GetAsync("/health", Ct);
        using var alive = await client.GetAsync("/alive", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

        MovieServiceFixture.ActAs(client, "u1");
        using var list = await client.GetAsync("/movies", Ct);
        Assert.True(list.StatusCode == HttpStatusCode.ServiceUnavailable, await list.Content.ReadAsStringAsync(Ct));
        Assert.NotNull(list.Headers.RetryAfter);
        Assert.Equal("application/problem+json", list.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>
    /// MySQL is down when the service starts and no server version is configured: the version cannot
    /// be read, and every request that needs the database — even one that fails while it is being
    /// bound — is a 503 with Retry-After, not a 500.
    /// </summary>
    [Fact]
    public async Task Started_with_MySQL_down_and_no_server_version_known_requests_are_503_not_500()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var nowhere = $"Server=127.0.0.1;Port={ServiceProcess.FreePort()};User ID=nobody;Password=x;Database=moviedb;Connect Timeout=1";
        await using var service = MovieServiceFixture.Create(nowhere, vhost.ConnectionString);
        using var client = service.CreateClient();
        MovieServiceFixture.ActAs(client, "u1");

        foreach (var request in new Func<Task<HttpResponseMessage>>[]
        {
            () => client.GetAsync("/movies", Ct),
            () => client.GetAsync($"/movies/{Guid.NewGuid()}", Ct),
            () => client.PostAsJsonAsync("/movies", MovieHttp.NewMovie(), Ct),
        })
        {
            using var response = await request();
            Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, await response.Content.ReadAsStringAsync(Ct));
            Assert.NotNull(response.Headers.RetryAfter);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    /// <summary>
    /// Aspire.RabbitMQ.Client connects inside DI resolution, retrying for about 30 s; the service must
    /// neither wait for that at start-up nor let /health wait for it, and must connect by itself
    /// once the broker is there.
    /// </summary>
    [Fact]
    public async Task A_service_started_while_the_broker_is_unreachable_serves_movies_reports_degraded_at_once_and_connects_when_the_broker_comes()
    {
        await using var database = await servers.MariaDb.CreateDatabaseAsync();
        await using var virtualHost = await servers.RabbitMq.CreateVirtualHostAsync();

        // Nothing listens on the port yet: every connection attempt is refused, as when the broker is down.
        await using var broker = new TcpForwarder(ServiceProcess.FreePort(), virtualHost.Uri.Host, virtualHost.Uri.Port);
        var messaging = new UriBuilder(virtualHost.Uri) { Port = broker.Port }.Uri.ToString();
        await using var service = MovieServiceFixture.Create(database.ConnectionString, messaging);
        using var client = service.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(5);

        await Wait.UntilAsync(async () => (await client.GetAsync("/health", Ct)).StatusCode == HttpStatusCode.OK, "ready without the broker");
        using (var health = await client.GetAsync("/health", Ct))
        {
            Assert.Equal("Degraded", await health.Content.ReadAsStringAsync(Ct));
        }

        MovieServiceFixture.ActAs(client, "u1");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/movies", MovieHttp.NewMovie(), Ct)).StatusCode);

        broker.Start();
        await Wait.UntilAsync(
            async () => await (await client.GetAsync("/health", Ct)).Content.ReadAsStringAsync(Ct) == "Healthy",
            "connected once the broker is there",
            TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task A_user_deleted_event_deletes_that_users_movies_and_a_second_copy_changes_nothing()
    {
        await using var database = await servers.MariaDb.CreateDatabaseAsync();
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var service = MovieServiceFixture.Create(database.ConnectionString, vhost.ConnectionString);
        using var health = service.CreateClient();
        await Wait.UntilAsync(async () => (await health.GetAsync("/health", Ct)).StatusCode == HttpStatusCode.OK, "ready");
        await Wait.UntilHealthAsync(health, "consuming events");

        using var leaver = service.CreateClient();
        MovieServiceFixture.ActAs(leaver, "leaver");
        using var stayer = service.CreateClient();
        MovieServiceFixture.ActAs(stayer, "stayer");
        for (var i = 0; i < 3; i++)
        {
            await MovieHttp.CreateAsync(leaver, MovieHttp.NewMovie($"Leaver {i}"));
        }

        await MovieHttp.CreateAsync(stayer);

        await using var users = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddEventPublisher(), applicationName: "userservice");
        var events = users.Services.GetRequiredService<IEventPublisher>();
        await events.PublishAsync(new UserDeleted("leaver", DateTimeOffset.UtcNow), Ct);
        await events.PublishAsync(new UserDeleted("leaver", DateTimeOffset.UtcNow), Ct);

        await Wait.UntilAsync(async () => await database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE OwnerId = 'leaver'") == 0, "the leaver's movies are deleted");
        await Wait.UntilAsync(async () => await vhost.MessageCountAsync("movieservice.events") == 0, "both events are consumed");
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE OwnerId = 'stayer'"));
        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT COUNT(*) FROM movie_genres"));
        Assert.Equal(0u, await vhost.MessageCountAsync("movieservice.events.dead"));
    }

    [Fact]
    public async Task A_user_deleted_before_the_movie_service_has_ever_run_loses_their_movies_once_it_starts()
    {
        await using var database = await servers.MariaDb.CreateDatabaseAsync();
        await using var scratch = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));

        // A fresh deployment: the user service and a gateway (its request client and its cache of
        // deleted users) run on this virtual host; the movie service never has.
        await using var users = new ServiceFactory<UserService.UserServiceApp>(UserServiceHost.Settings(vhost.ConnectionString, directory));
        using (var usersHealth = users.CreateClient())
        {
            await Wait.UntilHealthAsync(usersHealth, "the user service is ready");
        }

        var cache = new SecurityChanges();
        await using var gateway = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.AddRequestClient(UserServiceQueues.Requests);
            builder.Services.AddSingleton(cache);
            builder.AddPerInstanceEventSubscription().On<UserSecurityChanged, SecurityChanges.Consumer>();
        }, applicationName: "gateway");
        var requests = gateway.Services.GetRequiredService<IRequestClient>();
        var leaver = await RegisterAsync(requests, "leaver");
        var stayer = await RegisterAsync(requests, "stayer");

        // Their movies, made by the movie service run once on another virtual host, on the same database.
        await using (var earlier = MovieServiceFixture.Create(database.ConnectionString, scratch.ConnectionString))
        {
            using var health = earlier.CreateClient();
            await Wait.UntilAsync(async () => (await health.GetAsync("/health", Ct)).StatusCode == HttpStatusCode.OK, "the earlier movie service is ready");
            using var leaverClient = earlier.CreateClient();
            MovieServiceFixture.ActAs(leaverClient, leaver.Id);
            await MovieHttp.CreateAsync(leaverClient, MovieHttp.NewMovie("Leaver 1"));
            await MovieHttp.CreateAsync(leaverClient, MovieHttp.NewMovie("Leaver 2"));
            using var stayerClient = earlier.CreateClient();
            MovieServiceFixture.ActAs(stayerClient, stayer.Id);
            await MovieHttp.CreateAsync(stayerClient);
        }

        var admin = (await requests.SendAsync(new AuthenticateUser("admin", UserServiceHost.AdminPassword), cancellationToken: Ct)).Reply!.Value!;
        var deleted = await requests.SendAsync(new DeleteUser(new Actor(admin.User.Id, admin.Security.StampHash), leaver.Id), new RequestOptions { Timeout = TimeSpan.FromSeconds(20) }, Ct);
        Assert.Equal(ReplyStatus.Ok, deleted.Reply!.Status);
        await Wait.UntilAsync(() => cache.Received.Any(e => e.UserId == leaver.Id && e.Deleted), "the gateway's cache hears of the deletion");

        await using var movies = MovieServiceFixture.Create(database.ConnectionString, vhost.ConnectionString);
        using var client = movies.CreateClient();
        await Wait.UntilHealthAsync(client, "the movie service is ready and consumes events");

        await Wait.UntilAsync(async () => await database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE OwnerId = @id", ("@id", leaver.Id)) == 0, "the deleted user's movies are gone");
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT COUNT(*) FROM movies WHERE OwnerId = @id", ("@id", stayer.Id)));
        Assert.Equal(0u, await vhost.MessageCountAsync("movieservice.events.dead"));
    }

    private static async Task<UserDto> RegisterAsync(IRequestClient requests, string name)
    {
        var result = await requests.SendAsync(new RegisterUser(name, $"{name}@example.test", "s3cret-passw0rd"), new RequestOptions { Timeout = TimeSpan.FromSeconds(20) }, Ct);
        Assert.Equal(ReplyStatus.Ok, result.Reply!.Status);
        return result.Reply.Value!;
    }

    /// <summary>What a gateway's cache of rights hears.</summary>
    private sealed class SecurityChanges
    {
        public System.Collections.Concurrent.ConcurrentQueue<UserSecurityChanged> Received { get; } = new();

        public sealed class Consumer(SecurityChanges changes) : MovieDb.Messaging.Events.IEventConsumer<UserSecurityChanged>
        {
            public Task HandleAsync(UserSecurityChanged message, CancellationToken cancellationToken)
            {
                changes.Received.Enqueue(message);
                return Task.CompletedTask;
            }
        }
    }
}
