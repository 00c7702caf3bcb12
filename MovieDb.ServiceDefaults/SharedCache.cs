using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace MovieDb.ServiceDefaults;

/// <summary>Settings of the shared cache (section <c>Cache</c>).</summary>
public sealed class SharedCacheOptions
{
    public const string SectionName = "Cache";

    /// <summary>Put before every key, so that several systems (or test runs) can share one Redis.</summary>
    [Required, RegularExpression("^[A-Za-z0-9:._-]{1,64}$")]
    public string KeyPrefix { get; set; } = "moviedb:";

    /// <summary>How long one operation may take before the caller falls back (a request must not wait on a sick Redis).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:10")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// Redis (the <c>cache</c> resource): the state that every instance of a service must share — rate
/// limits, the sign-in throttle, the web app's keys and sessions. A cache and coordination store,
/// never a system of record. Without <c>ConnectionStrings:cache</c> there is none, and each piece keeps
/// its state in its own process (one instance only); while Redis is unreachable each piece does what
/// docs/reliability.md says (falls back to its own memory, or refuses), and <c>/health</c> is Degraded.
/// </summary>
public sealed class SharedCache(IConnectionMultiplexer? connection, IOptions<SharedCacheOptions> options)
{
    /// <summary>The Redis connection, or null when no cache is configured.</summary>
    public IConnectionMultiplexer? Connection { get; } = connection;

    /// <summary>True when a Redis is configured (whether or not it answers now).</summary>
    public bool IsConfigured => Connection is not null;

    /// <summary>True while the connection to Redis is up.</summary>
    public bool IsConnected => Connection?.IsConnected == true;

    /// <summary>Put before every key (the <c>Cache:KeyPrefix</c> setting).</summary>
    public string KeyPrefix { get; } = options.Value.KeyPrefix;

    /// <summary>The database, every key under <see cref="KeyPrefix"/> (scripts' keys included).</summary>
    public IDatabase Database => (Connection ?? throw new InvalidOperationException("No cache is configured (ConnectionStrings:cache).")).GetDatabase().WithKeyPrefix(KeyPrefix);

    /// <summary>True for the exceptions a Redis that is down, slow or restarting throws: the caller falls back.</summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException or ObjectDisposedException => true,
        // A Redis that restarts with persistence answers LOADING until its data is read back.
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal),
        _ => false,
    };
}

/// <summary>Registers the shared cache (<c>AddRedisClient("cache")</c>) when <c>ConnectionStrings:cache</c> is set.</summary>
public static partial class SharedCacheExtensions
{
    public const string ConnectionName = "cache";

    /// <summary>
    /// Aspire.StackExchange.Redis's client, set up to fail fast: a command while the connection is down
    /// fails at once instead of waiting in a backlog, and none waits longer than
    /// <c>Cache:OperationTimeout</c>, so a request falls back rather than hangs. The client's own health
    /// check (Unhealthy when Redis is away) is replaced by one that reports Degraded: the services keep
    /// serving without Redis.
    /// </summary>
    public static IHostApplicationBuilder AddSharedCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SharedCacheOptions>().BindConfiguration(SharedCacheOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ConnectionName)))
        {
            builder.Services.AddSingleton(sp => new SharedCache(null, sp.GetRequiredService<IOptions<SharedCacheOptions>>()));
            builder.Services.AddHostedService<NoSharedCacheWarning>();
            return builder;
        }

        var timeout = builder.Configuration.GetSection(SharedCacheOptions.SectionName).Get<SharedCacheOptions>()?.OperationTimeout
            ?? new SharedCacheOptions().OperationTimeout;
        builder.AddRedisClient(
            ConnectionName,
            settings => settings.DisableHealthChecks = true,
            redis =>
            {
                redis.AbortOnConnectFail = false;
                redis.BacklogPolicy = BacklogPolicy.FailFast;
                redis.AsyncTimeout = (int)timeout.TotalMilliseconds;
                redis.SyncTimeout = (int)timeout.TotalMilliseconds;
                redis.ConnectTimeout = Math.Max(1000, (int)timeout.TotalMilliseconds);
            });
        builder.Services.AddSingleton(sp => new SharedCache(sp.GetRequiredService<IConnectionMultiplexer>(), sp.GetRequiredService<IOptions<SharedCacheOptions>>()));
        builder.Services.AddHealthChecks().AddCheck<SharedCacheHealthCheck>("cache", failureStatus: HealthStatus.Degraded);
        return builder;
    }

    /// <summary>Healthy while Redis answers a PING; Degraded (never Unhealthy) otherwise: the service works on without it.</summary>
    private sealed class SharedCacheHealthCheck(SharedCache cache) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                var latency = await cache.Database.PingAsync().WaitAsync(cancellationToken);
                return HealthCheckResult.Healthy($"Redis answered in {latency.TotalMilliseconds:F1} ms.");
            }
            catch (Exception ex) when (SharedCache.IsUnavailable(ex) || ex is RedisException)
            {
                return HealthCheckResult.Degraded("Redis is unreachable: shared limits and sessions fall back as docs/reliability.md says.", ex);
            }
        }
    }

    private sealed partial class NoSharedCacheWarning(ILogger<SharedCache> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogNoCache(logger);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Warning, Message = "No ConnectionStrings:cache: rate limits, the sign-in throttle and sessions are kept in this process only. Run one instance of this service, or give it a Redis.")]
        private static partial void LogNoCache(ILogger logger);
    }
}
