using MovieDb.Tests.Infrastructure;

[assembly: AssemblyFixture(typeof(TestServers))]

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// The real servers the tests run against, found once per test run: MariaDB/MySQL from
/// <c>MOVIEDB_TEST_MYSQL</c>, RabbitMQ from <c>MOVIEDB_TEST_RABBITMQ</c>, Redis from
/// <c>MOVIEDB_TEST_REDIS</c>, MongoDB from
/// <c>MOVIEDB_TEST_MONGODB</c>; where a variable is missing and Docker is reachable, a Testcontainers
/// container; otherwise the tests that need the server skip with the reason — except under
/// <c>CI=true</c>, where a missing MariaDB or RabbitMQ fails them. SMTP servers (aiosmtpd) are
/// started per test system (<see cref="SmtpServers"/>); missing, they fail CI runs too.
/// </summary>
public sealed class TestServers : IAsyncLifetime
{
    public MariaDbServer MariaDb { get; } = new();

    public RabbitMqServer RabbitMq { get; } = new();

    public MongoDbServer MongoDb { get; } = new();

    public RedisServer Redis { get; } = new();

    public SmtpServers Smtp { get; } = new();

    /// <summary>True when the run is a CI run (<c>CI=true</c>).</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await MariaDb.DisposeAsync();
        await RabbitMq.DisposeAsync();
        await MongoDb.DisposeAsync();
        await Redis.DisposeAsync();
    }

    /// <summary>Ends the current test: a failure in CI for required servers, a skip elsewhere.</summary>
    public static Exception Unavailable(string server, string reason, bool requiredInCi)
    {
        if (IsCi && requiredInCi)
        {
            Assert.Fail($"{server} is required when CI=true, but it is not available: {reason}");
        }

        Assert.Skip($"{server} is not available: {reason}");
        return new InvalidOperationException("unreachable");
    }

    /// <summary>True when a Docker engine looks reachable (for Testcontainers).</summary>
    internal static bool DockerLooksReachable()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (!string.IsNullOrEmpty(host))
        {
            return true;
        }

        return File.Exists("/var/run/docker.sock") || File.Exists(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker/run/docker.sock"));
    }
}
