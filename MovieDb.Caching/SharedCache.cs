using System.ComponentModel.DataAnnotations;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StackExchange.Redis.KeyspaceIsolation;

namespace MovieDb.Caching;

/// <summary>Settings of the shared cache (section <c>Cache</c>).</summary>
public sealed class SharedCacheOptions
{
    public const string SectionName = "Cache";

    /// <summary>Put before every key, so that several systems (or test runs) can share one Redis.</summary>
    [Required, RegularExpression(@"^[A-Za-z0-9:._-]{1,64}\z")]
    public string KeyPrefix { get; set; } = "moviedb:";

    /// <summary>How long one operation may take before the caller falls back (a request must not wait on a sick Redis).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:10")]
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>After Redis was found unreachable, how long callers fall back at once without trying it again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Redis (the <c>cache</c> resource): the state that every instance of a service must share — rate
/// limits, the sign-in throttle, the web app's keys and sessions. A cache and coordination store,
/// never a system of record. Without <c>ConnectionStrings:cache</c> there is none, and each piece keeps
/// its state in its own process (one instance only).
/// </summary>
/// <remarks>
/// Callers go through <see cref="RunAsync"/> (or <see cref="ShouldTry"/> and <see cref="ReportUnavailable"/>):
/// an operation that finds Redis down, slow or restarting falls back to what the caller does without
/// it, and for <c>Cache:RetryAfter</c> every caller falls back at once without waiting on Redis again —
/// so a Redis that stopped answering costs one <c>Cache:OperationTimeout</c> now and then, not one per
/// call. Other Redis errors (a script error, a missing right) are not hidden: they throw.
/// </remarks>
public sealed partial class SharedCache(IConnectionMultiplexer? connection, IOptions<SharedCacheOptions> options, TimeProvider time, ILogger<SharedCache> logger)
{
    private long _downUntil = long.MinValue;

    /// <summary>The Redis connection, or null when no cache is configured.</summary>
    public IConnectionMultiplexer? Connection { get; } = connection;

    /// <summary>True when a Redis is configured (whether or not it answers now).</summary>
    public bool IsConfigured => Connection is not null;

    /// <summary>Put before every key of ours (the <c>Cache:KeyPrefix</c> setting).</summary>
    public string KeyPrefix { get; } = options.Value.KeyPrefix;

    /// <summary>The database, every key under <see cref="KeyPrefix"/> (scripts' keys included).</summary>
    public IDatabase Database => (Connection ?? throw new InvalidOperationException("No cache is configured (ConnectionStrings:cache).")).GetDatabase().WithKeyPrefix(KeyPrefix);

    /// <summary>True when a cache is configured and was not found unreachable within the last <c>Cache:RetryAfter</c>.</summary>
    public bool ShouldTry => IsConfigured && time.GetTimestamp() >= Interlocked.Read(ref _downUntil);

    /// <summary>
    /// Runs <paramref name="operation"/> on Redis, or <paramref name="fallback"/> when there is no cache,
    /// when Redis was just found unreachable, or when this call finds it so.
    /// </summary>
    public async ValueTask<T> RunAsync<T>(string what, Func<IDatabase, Task<T>> operation, Func<ValueTask<T>> fallback)
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(fallback);
        if (!ShouldTry)
        {
            return await fallback();
        }

        try
        {
            return await operation(Database);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            ReportUnavailable(ex, what);
            return await fallback();
        }
    }

    /// <summary>Redis did not answer <paramref name="what"/>: callers fall back at once for <c>Cache:RetryAfter</c>.</summary>
    public void ReportUnavailable(Exception exception, string what)
    {
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _downUntil);
        var until = now + (long)(options.Value.RetryAfter.TotalSeconds * time.TimestampFrequency);
        if (now >= last && Interlocked.CompareExchange(ref _downUntil, until, last) == last)
        {
            LogUnavailable(logger, what, options.Value.RetryAfter.TotalSeconds, exception);
        }
    }

    /// <summary>True for what a Redis that is down, slow or restarting throws; not for errors of ours.</summary>
    public static bool IsUnavailable(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutException or ObjectDisposedException => true,
        // A connection reset or refused mid-command: the client may surface the socket's own error
        // (Pipelines.Sockets.Unofficial.ConnectionResetException wraps a SocketException) rather than its own.
        SocketException or IOException => true,
        { InnerException: SocketException or IOException } => true,
        // A command written while the connection is being torn down: the socket's pipe is already
        // completed ("Writing is not allowed after writer was completed", seen in CI as Redis stopped).
        InvalidOperationException { Source: "System.IO.Pipelines" } => true,
        // A Redis that restarts with persistence answers LOADING until its data is read back.
        RedisServerException server => server.Message.StartsWith("LOADING", StringComparison.Ordinal),
        _ => false,
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis did not answer ({What}): every shared limit, count and session falls back to this instance's own for {Seconds} s, then Redis is tried again")]
    private static partial void LogUnavailable(ILogger logger, string what, double seconds, Exception exception);
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
        builder.Services.TryAddSingleton(TimeProvider.System);
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(ConnectionName)))
        {
            builder.Services.AddSingleton(sp => new SharedCache(null, sp.GetRequiredService<IOptions<SharedCacheOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SharedCache>>()));
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
                // The client's I/O on .NET's thread pool instead of its default set of dedicated threads
                // (SocketManager.Shared), which on a busy 2-core machine cost the gateway CPU for every
                // call (bench/RESULTS.md, round three). Every call on a request's path is asynchronous;
                // the blocking connect is made at start, before any request (SharedCacheConnection),
                // and the other synchronous calls — the web app's key ring, read at start, by its
                // readiness check until then, and about once a day — are too few to starve the pool.
                redis.SocketManager = SocketManager.ThreadPool;
            });
        builder.Services.AddSingleton(sp => new SharedCache(
            sp.GetRequiredService<IConnectionMultiplexer>(),
            sp.GetRequiredService<IOptions<SharedCacheOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<SharedCache>>()));
        builder.Services.AddHealthChecks().AddCheck<SharedCacheHealthCheck>("cache", failureStatus: HealthStatus.Degraded);
        builder.Services.AddHostedService<SharedCacheConnection>();
        return builder;
    }

    /// <summary>
    /// Makes the Redis connection at start. The client integration makes it on first use, with a
    /// blocking connect (at most <c>ConnectTimeout</c>; when Redis is away it returns unconnected and
    /// keeps trying in the background): on the first request's thread, with a burst of first requests
    /// waiting behind it on the thread pool that the connect's own I/O needs.
    /// </summary>
    private sealed class SharedCacheConnection(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            _ = services.GetRequiredService<IConnectionMultiplexer>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
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
