using Testcontainers.MongoDb;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// A MongoDB server from <c>MOVIEDB_TEST_MONGODB</c> or Testcontainers. None can run on the build
/// machines (ENVIRONMENT.md), so without one the MongoDB tests skip with the reason — in CI too.
/// </summary>
public sealed class MongoDbServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "MOVIEDB_TEST_MONGODB";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private MongoDbContainer? _container;
    private string? _connectionString;
    private string? _unavailableReason;

    /// <summary>A connection string to the server (no database); skips the test when there is none.</summary>
    public async Task<string> GetConnectionStringAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_connectionString is null && _unavailableReason is null)
            {
                await ResolveAsync();
            }
        }
        finally
        {
            _gate.Release();
        }

        return _connectionString ?? throw TestServers.Unavailable("MongoDB", _unavailableReason!, requiredInCi: false);
    }

    private async Task ResolveAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            _connectionString = fromEnvironment;
            return;
        }

        if (!TestServers.DockerLooksReachable())
        {
            _unavailableReason = $"{EnvironmentVariable} is not set and no Docker engine is reachable for Testcontainers (no MongoDB server can be installed on the build machines).";
            return;
        }

        try
        {
            _container = new MongoDbBuilder("mongo:8.0").Build();
            await _container.StartAsync();
            _connectionString = _container.GetConnectionString();
        }
        catch (Exception ex)
        {
            _unavailableReason = $"{EnvironmentVariable} is not set and starting a MongoDB container failed: {ex.Message}";
        }
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
