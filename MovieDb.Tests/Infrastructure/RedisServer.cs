using StackExchange.Redis;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// The Redis the test run uses, from <c>MOVIEDB_TEST_REDIS</c> (<c>host:port</c>, set by scripts/test.sh).
/// Test systems share it and keep apart by key prefix (<see cref="NewKeyPrefix"/>), as the services'
/// <c>Cache:KeyPrefix</c> setting allows; a test that needs Redis to go away puts a
/// <see cref="TcpForwarder"/> of its own in front of it and cuts that.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "MOVIEDB_TEST_REDIS";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly string? _address = Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } address ? address : null;
    private ConnectionMultiplexer? _connection;

    /// <summary><c>host:port</c> of the server; fails (CI) or skips the test when there is none.</summary>
    public string Address => _address ?? throw TestServers.Unavailable("Redis", $"{EnvironmentVariable} is not set. Run scripts/test.sh, which installs and starts Redis.", requiredInCi: true);

    public string Host => Address.Split(':')[0];

    public int Port => int.Parse(Address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A key prefix no other test system uses.</summary>
    public static string NewKeyPrefix() => $"moviedb-test-{Guid.NewGuid():N}"[..25] + ":";

    /// <summary>A connection of the tests' own, to look at or change what the services stored.</summary>
    public async Task<IDatabase> GetDatabaseAsync(string keyPrefix)
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            _connection ??= await ConnectionMultiplexer.ConnectAsync(Address);
        }
        finally
        {
            _gate.Release();
        }

        return StackExchange.Redis.KeyspaceIsolation.DatabaseExtensions.WithKeyPrefix(_connection.GetDatabase(), keyPrefix);
    }

    /// <summary>The keys stored under <paramref name="keyPrefix"/>, without it.</summary>
    public async Task<List<string>> KeysAsync(string keyPrefix)
    {
        await GetDatabaseAsync(keyPrefix);
        var server = _connection!.GetServer(_connection.GetEndPoints()[0]);
        var keys = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: keyPrefix + "*"))
        {
            keys.Add(key.ToString()[keyPrefix.Length..]);
        }

        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
