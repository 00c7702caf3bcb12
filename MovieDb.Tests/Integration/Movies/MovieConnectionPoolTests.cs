using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MovieService.Infrastructure;
using MySqlConnector;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>
/// The movie service reuses pooled MariaDB connections without resetting them (a round trip and a
/// <c>SET NAMES</c> saved on every request): what that relies on — no request leaves a lock or an open
/// transaction on its connection — is checked here, against the real server.
/// </summary>
public sealed class MovieConnectionPoolTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Server=db;Database=movies", false)]
    [InlineData("Server=db;Database=movies;Connection Reset=true", true)]
    [InlineData("Server=db;Database=movies;connectionreset=True", true)]
    [InlineData("Server=db;Database=movies;Connection Reset=false", false)]
    public void Connections_are_reused_without_a_reset_unless_the_connection_string_asks_for_one(string configured, bool reset)
    {
        var effective = new MySqlConnectionStringBuilder(MovieService.Extensions.Extensions.WithoutPoolReset(configured));

        Assert.Equal(reset, effective.ConnectionReset);
        Assert.Equal(("db", "movies"), (effective.Server, effective.Database));
    }

    [Fact]
    public async Task After_migrations_and_requests_of_every_kind_no_pooled_connection_holds_a_lock_or_an_open_transaction()
    {
        using (var scope = service.Factory.Services.CreateScope())
        {
            var context = scope.ServiceProvider.GetRequiredService<MovieDbContext>();
            Assert.False(new MySqlConnectionStringBuilder(context.Database.GetConnectionString()!).ConnectionReset);
        }

        using var client = service.ClientFor($"pool-{Guid.NewGuid():N}");
        var (movie, _) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Pooled"));
        using var update = new HttpRequestMessage(HttpMethod.Put, $"/movies/{movie.Id}") { Content = System.Net.Http.Json.JsonContent.Create(MovieHttp.NewMovie("Pooled again")) };
        update.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue("\"1\""));
        Assert.True((await client.SendAsync(update, Ct)).IsSuccessStatusCode);
        Assert.True((await client.GetAsync("/movies?pageSize=5", Ct)).IsSuccessStatusCode);
        Assert.True((await client.DeleteAsync($"/movies/{movie.Id}", Ct)).IsSuccessStatusCode);

        // EF Core's migration lock (Pomelo: GET_LOCK('__<database>_EFMigrationsLock')) was released, so a
        // reused connection cannot hold it; a reset would have released it, without one nothing would.
        Assert.Null(await service.Database.ScalarAsync<long?>("SELECT IS_USED_LOCK(@name)", ("@name", $"__{service.Database.Name}_EFMigrationsLock")));
        var openTransactions = await service.Database.ScalarAsync<long>(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = @db AND p.ID <> CONNECTION_ID()",
            ("@db", service.Database.Name));
        Assert.Equal(0, openTransactions);
    }
}
