using System.Text;
using MovieDb.Tests.Infrastructure;
using MySqlConnector;
using RabbitMQ.Client;

namespace MovieDb.Tests.Integration;

/// <summary>The fixtures give each test real, isolated servers and clean up after it.</summary>
public sealed class TestServerFixtureTests(TestServers servers)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_test_database_round_trips_unicode_rows_and_is_dropped_on_dispose()
    {
        string name;
        await using (var database = await servers.MariaDb.CreateDatabaseAsync())
        {
            name = database.Name;
            await database.ExecuteAsync("CREATE TABLE notes (id INT PRIMARY KEY, text VARCHAR(100) NOT NULL)");
            await database.ExecuteAsync("INSERT INTO notes VALUES (1, 'Amélie — 東京物語 🎬')");

            var text = await database.ScalarAsync<string>("SELECT text FROM notes WHERE id = @id", ("@id", 1));

            Assert.Equal("Amélie — 東京物語 🎬", text);
        }

        await using var connection = new MySqlConnection(await servers.MariaDb.GetAdminConnectionStringAsync());
        await connection.OpenAsync(Ct);
        await using var command = new MySqlCommand("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = @name", connection);
        command.Parameters.AddWithValue("@name", name);
        Assert.Equal(0L, Convert.ToInt64(await command.ExecuteScalarAsync(Ct), System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Two_test_databases_do_not_see_each_other()
    {
        await using var first = await servers.MariaDb.CreateDatabaseAsync();
        await using var second = await servers.MariaDb.CreateDatabaseAsync();

        await first.ExecuteAsync("CREATE TABLE only_here (id INT)");

        Assert.Equal(1L, await first.ScalarAsync<long>("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'only_here'"));
        Assert.Equal(0L, await second.ScalarAsync<long>("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'only_here'"));
    }

    [Fact]
    public async Task A_confirmed_message_round_trips_through_a_queue_in_the_tests_virtual_host()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), Ct);
        await channel.QueueDeclareAsync("roundtrip", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);

        await channel.BasicPublishAsync(string.Empty, "roundtrip", mandatory: true, new BasicProperties { MessageId = "m-1", Persistent = true }, Encoding.UTF8.GetBytes("hello"), Ct);
        var message = await channel.BasicGetAsync("roundtrip", autoAck: true, Ct);

        Assert.NotNull(message);
        Assert.Equal("m-1", message.BasicProperties.MessageId);
        Assert.Equal("hello", Encoding.UTF8.GetString(message.Body.Span));
    }

    [Fact]
    public async Task A_test_virtual_host_is_isolated_and_deleted_on_dispose()
    {
        string name;
        await using (var first = await servers.RabbitMq.CreateVirtualHostAsync())
        await using (var second = await servers.RabbitMq.CreateVirtualHostAsync())
        {
            name = first.Name;
            Assert.True(await servers.RabbitMq.VirtualHostExistsAsync(name));
            await using var connection = await first.ConnectAsync();
            await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
            await channel.QueueDeclareAsync("only-here", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
            await channel.BasicPublishAsync(string.Empty, "only-here", Encoding.UTF8.GetBytes("x"), Ct);

            Assert.Equal(0u, await second.MessageCountAsync("only-here"));
        }

        Assert.False(await servers.RabbitMq.VirtualHostExistsAsync(name));
    }
}
