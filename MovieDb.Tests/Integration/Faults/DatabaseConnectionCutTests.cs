using System.Net;
using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;
using MySqlConnector;

namespace MovieDb.Tests.Integration.Faults;

/// <summary>
/// The movie service's connection to MariaDB cut in the middle of a request, with a reset (a machine or
/// the network failing) or an orderly close (a crashed process's sockets), no error from the server:
/// the request is answered 503 with problem details, never a 500; a change cut while it is being saved
/// says that it was not confirmed, and one cut before its commit is not made.
/// </summary>
public sealed class DatabaseConnectionCutTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_read_whose_connection_is_cut_while_it_waits_in_the_database_is_a_503(bool reset)
    {
        await using var setup = await CutSetup.StartAsync(servers);

        // The read waits for the table, held by another session, when its connection is cut.
        await using var locker = await setup.OpenDirectAsync();
        await Execute(locker, "LOCK TABLES movies WRITE, movie_genres WRITE");
        var read = setup.Client.GetAsync($"/movies/{setup.MovieId}", Ct);
        await setup.CutWhileWaitingAsync("SELECT", reset);
        await Execute(locker, "UNLOCK TABLES");

        using var response = await read;
        await AssertUnavailableAsync(response);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct);
        Assert.Contains("Nothing was changed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_change_whose_connection_is_cut_before_its_commit_is_a_503_not_confirmed_and_is_not_made(bool reset)
    {
        await using var setup = await CutSetup.StartAsync(servers);

        // The update waits for the movie's row, locked by another transaction, when its connection is cut.
        await using var locker = await setup.OpenDirectAsync();
        await Execute(locker, "START TRANSACTION");
        await Execute(locker, $"SELECT Id FROM movies WHERE Id = '{setup.MovieId}' FOR UPDATE");
        using var update = new HttpRequestMessage(HttpMethod.Put, $"/movies/{setup.MovieId}") { Content = JsonContent.Create(MovieHttp.NewMovie("Changed")) };
        update.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"1\""));
        var change = setup.Client.SendAsync(update, Ct);
        await setup.CutWhileWaitingAsync("UPDATE", reset);
        await Execute(locker, "ROLLBACK");

        using var response = await change;
        await AssertUnavailableAsync(response);
        var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(Ct);
        Assert.Equal("Change not confirmed", problem.GetProperty("title").GetString());
        Assert.DoesNotContain("Nothing was changed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var after = await setup.Client.GetAsync($"/movies/{setup.MovieId}", Ct);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal("\"1\"", after.Headers.ETag?.Tag);
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    private static async Task Execute(MySqlConnection connection, string sql)
    {
        await using var command = new MySqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    /// <summary>A movie service whose database connections go through a <see cref="TcpForwarder"/>, with one movie.</summary>
    private sealed class CutSetup : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];

        public required TestDatabase Database { get; init; }

        public required TcpForwarder Link { get; init; }

        public required ServiceFactory<MovieService.MovieServiceApp> Service { get; init; }

        public required HttpClient Client { get; init; }

        public string MovieId { get; private set; } = string.Empty;

        public static async Task<CutSetup> StartAsync(TestServers servers)
        {
            var database = await servers.MariaDb.CreateDatabaseAsync();
            var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
            var direct = new MySqlConnectionStringBuilder(database.ConnectionString);
            var link = new TcpForwarder(ServiceProcess.FreePort(), direct.Server, (int)direct.Port);
            link.Start();
            var throughLink = new MySqlConnectionStringBuilder(database.ConnectionString) { Port = (uint)link.Port }.ConnectionString;
            var service = MovieServiceFixture.Create(throughLink, vhost.ConnectionString);
            var client = service.CreateClient();
            var setup = new CutSetup { Database = database, Link = link, Service = service, Client = client };
            setup._owned.AddRange([service, link, vhost, database]);
            try
            {
                await Wait.UntilAsync(async () => (await client.GetAsync("/health", Ct)).IsSuccessStatusCode, "the movie service is ready");
                MovieServiceFixture.ActAs(client, $"cut-{Guid.NewGuid():N}");
                setup.MovieId = (await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Before the cut"))).Movie.Id;
                return setup;
            }
            catch
            {
                await setup.DisposeAsync();
                throw;
            }
        }

        public async Task<MySqlConnection> OpenDirectAsync()
        {
            var connection = new MySqlConnection(Database.ConnectionString + ";Pooling=false");
            await connection.OpenAsync(Ct);
            return connection;
        }

        /// <summary>Waits until the service's statement (<paramref name="verb"/> …) is waiting in MariaDB, then cuts its connections.</summary>
        public async Task CutWhileWaitingAsync(string verb, bool reset)
        {
            await Wait.UntilAsync(
                async () => await Database.ScalarAsync<long>(
                    "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID() AND INFO LIKE @verb AND INFO NOT LIKE '%PROCESSLIST%'",
                    ("@db", Database.Name), ("@verb", verb + "%")) > 0,
                $"the service's {verb} waits in MariaDB");
            Link.CutAll(reset);
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            foreach (var owned in _owned)
            {
                await owned.DisposeAsync();
            }
        }
    }
}
