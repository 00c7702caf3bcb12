using MySqlConnector;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>
/// Pooled MariaDB connections are reset when the movie service takes them from the pool (MySqlConnector's
/// default): the reset is also what finds a connection the server has dropped and replaces it. Without
/// it a dead connection is handed to the next request, whose first command fails in a way EF Core does
/// not retry (bench/RESULTS.md measured what the reset costs, and why it stays).
/// </summary>
public sealed class MovieConnectionPoolTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task When_the_server_drops_every_pooled_connection_the_next_requests_are_answered_on_new_ones()
    {
        using var client = service.ClientFor($"pool-{Guid.NewGuid():N}");
        await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Survivor"));

        // Fill the pool: many requests at once each hold a connection, and all of them go back to the pool.
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ => Assert.True((await client.GetAsync("/movies?pageSize=5", Ct)).IsSuccessStatusCode)));
        var killed = await KillServiceConnectionsAsync();
        Assert.True(killed >= 1, "no pooled connection to drop");

        // The fixture retries once (Database:MaxRetryCount): not enough to get through dead connections.
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/movies?pageSize=5", Ct);
            Assert.True(response.IsSuccessStatusCode, $"request {i + 1} after the drop: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        }
    }

    private async Task<int> KillServiceConnectionsAsync()
    {
        await using var connection = new MySqlConnection(service.Database.ConnectionString + ";Pooling=false");
        await connection.OpenAsync(Ct);
        var ids = new List<long>();
        await using (var find = new MySqlCommand("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = @db AND ID <> CONNECTION_ID()", connection))
        {
            find.Parameters.AddWithValue("@db", service.Database.Name);
            await using var reader = await find.ExecuteReaderAsync(Ct);
            while (await reader.ReadAsync(Ct))
            {
                ids.Add(reader.GetInt64(0));
            }
        }

        foreach (var id in ids)
        {
            await using var kill = new MySqlCommand($"KILL CONNECTION {id}", connection);
            await kill.ExecuteNonQueryAsync(Ct);
        }

        return ids.Count;
    }
}
