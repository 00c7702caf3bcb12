using MySqlConnector;
using Testcontainers.MySql;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// A MariaDB/MySQL server; every test gets its own database (<see cref="CreateDatabaseAsync"/>),
/// dropped when the test disposes it.
/// </summary>
public sealed class MariaDbServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "MOVIEDB_TEST_MYSQL";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private MySqlContainer? _container;
    private string? _adminConnectionString;
    private string? _unavailableReason;

    /// <summary>An account that may create databases; throws (fails or skips the test) when there is no server.</summary>
    public async Task<string> GetAdminConnectionStringAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_adminConnectionString is null && _unavailableReason is null)
            {
                await ResolveAsync();
            }
        }
        finally
        {
            _gate.Release();
        }

        if (_adminConnectionString is null)
        {
            throw TestServers.Unavailable("MariaDB/MySQL", _unavailableReason!, requiredInCi: true);
        }

        return _adminConnectionString;
    }

    private async Task ResolveAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            _adminConnectionString = fromEnvironment;
            return;
        }

        if (!TestServers.DockerLooksReachable())
        {
            _unavailableReason = $"{EnvironmentVariable} is not set and no Docker engine is reachable for Testcontainers. Run scripts/test.sh, which installs and starts MariaDB.";
            return;
        }

        try
        {
            _container = new MySqlBuilder("mysql:8.4").Build();
            await _container.StartAsync();
            var builder = new MySqlConnectionStringBuilder(_container.GetConnectionString()) { UserID = "root", Password = MySqlBuilder.DefaultPassword, Database = "" };
            _adminConnectionString = builder.ConnectionString;
        }
        catch (Exception ex)
        {
            _unavailableReason = $"{EnvironmentVariable} is not set and starting a MySQL container failed: {ex.Message}";
        }
    }

    /// <summary>Creates an empty database for one test.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync()
    {
        var admin = await GetAdminConnectionStringAsync();
        var name = $"moviedb_t_{Guid.NewGuid():N}"[..26];
        var endpoint = DescribeEndpoint(admin);
        try
        {
            await using var connection = new MySqlConnection(admin);
            await connection.OpenAsync(TestContext.Current.CancellationToken);
            await using var command = new MySqlCommand($"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", connection);
            await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }
        catch (MySqlException ex)
        {
            throw TestServers.Unavailable("MariaDB/MySQL", $"the server at {endpoint} ({EnvironmentVariable}) is not reachable: {ex.Message}", requiredInCi: true);
        }

        var builder = new MySqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase(name, builder.ConnectionString, admin);
    }

    /// <summary>A connection string to a database that does not exist yet (for migration tests).</summary>
    public async Task<TestDatabase> ReserveDatabaseAsync()
    {
        var admin = await GetAdminConnectionStringAsync();
        var name = $"moviedb_t_{Guid.NewGuid():N}"[..26];
        var builder = new MySqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase(name, builder.ConnectionString, admin);
    }

    private static string DescribeEndpoint(string connectionString)
    {
        var builder = new MySqlConnectionStringBuilder(connectionString);
        return $"{builder.Server}:{builder.Port}";
    }

    public async ValueTask DisposeAsync()
    {
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        _gate.Dispose();
    }
}

/// <summary>One test's database; dropped on dispose.</summary>
public sealed class TestDatabase(string name, string connectionString, string adminConnectionString) : IAsyncDisposable
{
    public string Name { get; } = name;

    public string ConnectionString { get; } = connectionString;

    /// <summary>Runs a scalar query against this database.</summary>
    public async Task<T?> ScalarAsync<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        foreach (var (parameterName, value) in parameters)
        {
            command.Parameters.AddWithValue(parameterName, value);
        }

        var result = await command.ExecuteScalarAsync(TestContext.Current.CancellationToken);
        return result is null or DBNull ? default : (T)Convert.ChangeType(result, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a statement against this database.</summary>
    public async Task<int> ExecuteAsync(string sql)
    {
        await using var connection = new MySqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new MySqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await using var connection = new MySqlConnection(adminConnectionString);
            await connection.OpenAsync();
            await using var command = new MySqlCommand($"DROP DATABASE IF EXISTS `{Name}`", connection);
            await command.ExecuteNonQueryAsync();
        }
        catch (MySqlException)
        {
            // The server may be down on purpose (fault tests); a leftover test database is harmless.
        }
    }
}
