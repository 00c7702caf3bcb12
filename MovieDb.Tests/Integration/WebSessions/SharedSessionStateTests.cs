using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MovieDb.Caching;
using MovieDb.Tests.Infrastructure;
using StackExchange.Redis;
using WebApp.Model;
using WebApp.Auth;

namespace MovieDb.Tests.Integration.WebSessions;

/// <summary>
/// The web app's session state that every instance must share — one refresh per refresh token, the
/// signed-out sessions — in the test run's Redis, as two instances (and a restarted one) see it; and
/// what each does while Redis is unreachable.
/// </summary>
public sealed class SharedSessionStateTests(TestServers servers) : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _prefix = RedisServer.NewKeyPrefix();
    private readonly List<IConnectionMultiplexer> _connections = [];

    // The instances share their Data Protection keys (in Redis, in the web app): one provider here.
    private readonly IDataProtectionProvider _keys = new EphemeralDataProtectionProvider();

    private async Task<SharedCache> CacheAsync(string? address = null, TimeSpan? retryAfter = null)
    {
        var connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
        {
            EndPoints = { address ?? servers.Redis.Address },
            AbortOnConnectFail = false,
            BacklogPolicy = BacklogPolicy.FailFast,
            AsyncTimeout = 500,
            ConnectTimeout = 1000,
        });
        _connections.Add(connection);
        return new SharedCache(connection, Options.Create(new SharedCacheOptions { KeyPrefix = _prefix, RetryAfter = retryAfter ?? TimeSpan.FromSeconds(5) }), TimeProvider.System, NullLogger<SharedCache>.Instance);
    }

    private static SharedCache NoCache() => new(null, Options.Create(new SharedCacheOptions()), TimeProvider.System, NullLogger<SharedCache>.Instance);

    private RefreshCoordinator Coordinator(SharedCache cache) => new(cache, _keys, TimeProvider.System);

    private static SignedOutSessions SignedOut(SharedCache cache) => new(cache, TimeProvider.System);

    [Fact]
    public async Task Concurrent_refreshes_of_one_refresh_token_on_two_instances_reach_the_gateway_once()
    {
        RefreshCoordinator[] instances = [Coordinator(await CacheAsync()), Coordinator(await CacheAsync())];
        var calls = 0;
        var release = new TaskCompletionSource();
        async Task<ApiResult<TokenPair>> Refresh()
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return new ApiResult<TokenPair>(200, new TokenPair("access", "Bearer", 900, "next"), null);
        }

        // 50 page loads of one browser at the moment its token expires, spread over both instances.
        var refreshes = Enumerable.Range(0, 50).Select(i => instances[i % 2].RefreshAsync("spent-once", Refresh)).ToList();
        await Task.Delay(200, Ct);
        release.SetResult();
        var results = await Task.WhenAll(refreshes).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("next", r.Value!.RefreshToken));

        // A third instance (a restart) asking a little later gets the same outcome, not a second refresh.
        var late = await Coordinator(await CacheAsync()).RefreshAsync("spent-once", Refresh).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(("next", 1), (late.Value!.RefreshToken, calls));
    }

    [Fact]
    public async Task A_refused_refresh_is_shared_too_so_no_instance_reuses_the_spent_token()
    {
        var first = Coordinator(await CacheAsync());
        var second = Coordinator(await CacheAsync());
        var calls = 0;
        Task<ApiResult<TokenPair>> Refused()
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(ApiResult.Failed<TokenPair>(new ApiProblem(401, "Invalid refresh token", null, new Dictionary<string, string[]>(), null)));
        }

        Assert.Equal(401, (await first.RefreshAsync("revoked", Refused)).Status);
        Assert.Equal(401, (await second.RefreshAsync("revoked", Refused)).Status);
        Assert.Equal(1, calls);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_refresh_that_found_the_gateway_away_is_tried_again_next_time(bool withCache)
    {
        var coordinator = Coordinator(withCache ? await CacheAsync() : NoCache());
        var calls = 0;
        Task<ApiResult<TokenPair>> Refresh()
        {
            Interlocked.Increment(ref calls);
            return Task.FromResult(ApiResult.Failed<TokenPair>(ApiProblem.Unreachable));
        }

        await coordinator.RefreshAsync("token", Refresh).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await coordinator.RefreshAsync("token", Refresh).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task Without_a_cache_concurrent_refreshes_on_one_instance_reach_the_gateway_once()
    {
        var coordinator = Coordinator(NoCache());
        var calls = 0;
        var release = new TaskCompletionSource();
        async Task<ApiResult<TokenPair>> Refresh()
        {
            Interlocked.Increment(ref calls);
            await release.Task;
            return new ApiResult<TokenPair>(200, new TokenPair("access", "Bearer", 900, "next"), null);
        }

        var first = coordinator.RefreshAsync("spent-once", Refresh);
        var second = coordinator.RefreshAsync("spent-once", Refresh);
        release.SetResult();
        var results = await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("next", r.Value!.RefreshToken));
    }

    [Fact]
    public async Task A_session_signed_out_on_one_instance_is_refused_at_once_by_another_and_after_a_restart()
    {
        var here = SignedOut(await CacheAsync());
        var there = SignedOut(await CacheAsync());
        Assert.False(await there.ContainsAsync("session-1"));

        Assert.True(await here.AddAsync("session-1", DateTimeOffset.UtcNow.AddHours(8)));

        Assert.True(await there.ContainsAsync("session-1"));
        Assert.True(await SignedOut(await CacheAsync()).ContainsAsync("session-1"));
        Assert.False(await there.ContainsAsync("session-2"));
        var ttl = await (await servers.Redis.GetDatabaseAsync(_prefix)).KeyTimeToLiveAsync("signed-out:session-1");
        Assert.InRange(ttl!.Value, TimeSpan.FromHours(7.9), TimeSpan.FromHours(8));
    }

    [Fact]
    public async Task While_Redis_is_unreachable_sign_out_says_it_could_not_reach_every_instance_and_refreshes_still_work()
    {
        await using var forwarder = new TcpForwarder(ServiceProcess.FreePort(), servers.Redis.Host, servers.Redis.Port);
        forwarder.Start();
        var cache = await CacheAsync($"127.0.0.1:{forwarder.Port}");
        var signedOut = SignedOut(cache);
        var coordinator = Coordinator(cache);
        forwarder.CutAll(reset: true);
        await forwarder.DisposeAsync();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.False(await signedOut.AddAsync("session-1", DateTimeOffset.UtcNow.AddHours(8)));
        Assert.True(await signedOut.ContainsAsync("session-1"));
        Assert.False(await signedOut.ContainsAsync("session-2"));
        var refreshed = await coordinator.RefreshAsync("token", () => Task.FromResult(new ApiResult<TokenPair>(200, new TokenPair("a", "Bearer", 900, "b"), null)));
        Assert.Equal("b", refreshed.Value!.RefreshToken);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed} without Redis");
    }

    [Fact]
    public async Task A_Redis_that_stops_answering_costs_one_time_out_now_and_then_not_one_per_call()
    {
        await using var forwarder = new TcpForwarder(ServiceProcess.FreePort(), servers.Redis.Host, servers.Redis.Port);
        forwarder.Start();
        var cache = await CacheAsync($"127.0.0.1:{forwarder.Port}");
        var signedOut = SignedOut(cache);
        Assert.True(await signedOut.AddAsync("session-1", DateTimeOffset.UtcNow.AddHours(1)));
        forwarder.Stall();

        // Fifty page requests' worth of checks: the first waits for the 500 ms time-out, the rest fall
        // back at once for the next five seconds (without the pause, 50 × 500 ms).
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 50; i++)
        {
            Assert.False(await signedOut.ContainsAsync("session-2"));
        }

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
        Assert.False(cache.ShouldTry);
    }

    [Fact]
    public async Task The_web_apps_keys_are_one_set_for_every_instance_and_a_key_made_while_Redis_was_away_is_stored_once()
    {
        var port = ServiceProcess.FreePort();
        var forwarder = new TcpForwarder(port, servers.Redis.Host, servers.Redis.Port);
        forwarder.Start();
        var cache = await CacheAsync($"127.0.0.1:{port}", retryAfter: TimeSpan.FromMilliseconds(100));
        var here = new SharedKeyRepository(cache);
        var there = new SharedKeyRepository(await CacheAsync());
        here.StoreElement(Key("first"), "first");
        Assert.Equal(["first"], there.GetAllElements().Select(KeyId));
        Assert.Equal(["first"], here.GetAllElements().Select(KeyId));

        // Redis goes away: this instance goes on with what it read, and keeps the key it must make.
        forwarder.CutAll(reset: true);
        await forwarder.DisposeAsync();
        here.StoreElement(Key("second"), "second");
        Assert.Equal(["first", "second"], here.GetAllElements().Select(KeyId).Order(StringComparer.Ordinal));

        // Redis is back: the key is stored, once, even though another copy of it got there meanwhile
        // (a store whose answer was lost).
        await (await servers.Redis.GetDatabaseAsync(_prefix)).ListRightPushAsync("data-protection-keys", Key("second").ToString(System.Xml.Linq.SaveOptions.DisableFormatting));
        await using var back = new TcpForwarder(port, servers.Redis.Host, servers.Redis.Port);
        back.Start();
        await Wait.UntilAsync(
            () => Task.FromResult(cache.Connection!.IsConnected && here.GetAllElements().Count == 2 && cache.ShouldTry),
            "the instance reads the keys from Redis again");
        Assert.Equal(["first", "second"], there.GetAllElements().Select(KeyId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task An_instance_that_never_read_the_keys_makes_none_of_its_own_and_is_not_ready_until_it_has()
    {
        var port = ServiceProcess.FreePort();
        var cache = await CacheAsync($"127.0.0.1:{port}", retryAfter: TimeSpan.FromMilliseconds(100));
        var keys = new SharedKeyRepository(cache);
        var readiness = new SharedKeyRepository.ReadinessCheck(keys);

        Assert.Throws<InvalidOperationException>(() => keys.GetAllElements());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy, (await readiness.CheckHealthAsync(new(), Ct)).Status);

        await using var forwarder = new TcpForwarder(port, servers.Redis.Host, servers.Redis.Port);
        forwarder.Start();
        await Wait.UntilAsync(
            async () => (await readiness.CheckHealthAsync(new(), Ct)).Status == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            "the instance reads the keys once Redis answers");
    }

    private static System.Xml.Linq.XElement Key(string id) => new("key", new System.Xml.Linq.XAttribute("id", id));

    private static string KeyId(System.Xml.Linq.XElement element) => (string)element.Attribute("id")!;

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}
