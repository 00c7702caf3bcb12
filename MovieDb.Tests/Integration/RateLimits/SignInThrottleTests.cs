using System.Net;
using Gateway.Auth;
using Gateway.Limits;
using Gateway.Settings;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;
using MovieDb.Caching;
using MovieDb.Tests.Infrastructure;
using StackExchange.Redis;

namespace MovieDb.Tests.Integration.RateLimits;

/// <summary>
/// The per-account sign-in throttle — its counts in this process, and in Redis as the gateway keeps
/// them (the same rules, shared by every instance) — its device tokens, and the client address it
/// and the rate limits key on.
/// </summary>
public sealed class SignInThrottleTests(TestServers servers) : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly string _prefix = RedisServer.NewKeyPrefix();
    private readonly List<IConnectionMultiplexer> _connections = [];

    public static TheoryData<string> Stores => ["memory", "redis"];

    private static readonly SigningKeyring Keys = new(
        new SymmetricSecurityKey("sign-in-throttle-tests-key-0123456789-abcdefghijklmnopqrstuvwxyz"u8.ToArray()),
        new SymmetricSecurityKey("sign-in-throttle-tests-identity-0123456789-abcdefghijklmnopqrstuv"u8.ToArray()));

    private async Task<SignInThrottle> NewThrottleAsync(string store, int freeAttempts = 3, string? redisAddress = null)
    {
        var options = Options.Create(new RateLimitingOptions { SignInFailures = new() { FreeAttempts = freeAttempts, MaxDelay = TimeSpan.FromSeconds(60) } });
        IConnectionMultiplexer? connection = null;
        if (store == "redis")
        {
            connection = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
            {
                EndPoints = { redisAddress ?? servers.Redis.Address },
                AbortOnConnectFail = false,
                BacklogPolicy = BacklogPolicy.FailFast,
                AsyncTimeout = 500,
                ConnectTimeout = 1000,
            });
            _connections.Add(connection);
        }

        var cache = new SharedCache(connection, Options.Create(new SharedCacheOptions { KeyPrefix = _prefix }), _time, NullLogger<SharedCache>.Instance);
        return new SignInThrottle(options, _time, cache, Devices(), _stamps);
    }

    private DeviceTokens Devices() => new(Keys, Options.Create(new RateLimitingOptions()), _time);

    private const string OwnerId = "0b5f6f7e-0000-4000-8000-000000000001";
    private static readonly string Stamp = new('A', 64);
    private static readonly string NewStamp = new('B', 64);

    // What the user service says the accounts' stamps are now.
    private readonly CurrentStamps _stamps = new();

    private sealed class CurrentStamps : ICurrentStamps
    {
        public string Current { get; set; } = Stamp;

        public ValueTask<bool> IsCurrentAsync(string userId, string stampHash, CancellationToken cancellationToken) =>
            ValueTask.FromResult(userId == OwnerId && stampHash == Current);
    }

    private static async Task<TimeSpan?> TryAsync(SignInThrottle throttle, string userName, string? deviceToken = null) =>
        (await throttle.StartAsync(userName, deviceToken, TestContext.Current.CancellationToken)).Wait;

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_burst_of_parallel_guesses_gets_no_more_attempts_than_the_same_guesses_one_by_one(string store)
    {
        var throttle = await NewThrottleAsync(store);
        var allowed = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), async (_, _) =>
        {
            if (await TryAsync(throttle, "victim") is null)
            {
                Interlocked.Increment(ref allowed);
            }
        });

        // Three free attempts and the fourth (which sets the first wait): nothing more got through.
        Assert.Equal(4, allowed);
        Assert.Equal(TimeSpan.FromSeconds(1), await TryAsync(throttle, "VICTIM"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Each_attempt_beyond_the_free_ones_waits_twice_as_long_up_to_the_maximum(string store)
    {
        var throttle = await NewThrottleAsync(store, freeAttempts: 1);
        Assert.Null(await TryAsync(throttle, "victim"));
        var expected = TimeSpan.FromSeconds(1);
        for (var i = 0; i < 8; i++)
        {
            Assert.Null(await TryAsync(throttle, "victim"));
            var wait = (await TryAsync(throttle, " Victim "))!.Value;
            Assert.Equal(expected, wait);
            _time.Advance(wait);
            expected = expected * 2 < TimeSpan.FromSeconds(60) ? expected * 2 : TimeSpan.FromSeconds(60);
        }
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_client_with_the_accounts_device_token_is_never_held_up_by_others_guesses_and_its_success_clears_only_its_own_count(string store)
    {
        var throttle = await NewThrottleAsync(store);
        var device = Devices().Issue("owner", OwnerId, Stamp);

        for (var i = 0; i < 10; i++)
        {
            await TryAsync(throttle, "owner");
        }

        Assert.NotNull(await TryAsync(throttle, "owner"));
        var owner = await throttle.StartAsync("OWNER", device, TestContext.Current.CancellationToken);
        Assert.Null(owner.Wait);
        await throttle.SucceededAsync(owner, TestContext.Current.CancellationToken);

        // The guessers are still held up: the owner's success cleared only the owner's count.
        Assert.NotNull(await TryAsync(throttle, "owner"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_device_token_of_another_account_a_forged_one_or_an_expired_one_counts_as_none(string store)
    {
        var throttle = await NewThrottleAsync(store);
        var devices = Devices();
        var other = devices.Issue("someone-else", OwnerId, Stamp);
        var genuine = devices.Issue("owner", OwnerId, Stamp);
        var forged = genuine[..^2] + (genuine[^2] == 'A' ? "BA" : "AA");
        for (var i = 0; i < 4; i++)
        {
            await TryAsync(throttle, "owner");
        }

        Assert.NotNull(await TryAsync(throttle, "owner", other));
        Assert.NotNull(await TryAsync(throttle, "owner", forged));
        Assert.NotNull(await TryAsync(throttle, "owner", new string('x', DeviceTokens.MaxLength + 1)));
        Assert.Null(devices.Validate(genuine, "someone-else"));
        Assert.NotNull(devices.Validate(genuine, " OWNER "));

        _time.Advance(new RateLimitingOptions().SignInFailures.DeviceTokenLifetime + TimeSpan.FromSeconds(1));
        Assert.Null(devices.Validate(genuine, "owner"));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task A_device_token_counts_as_none_once_the_accounts_stamp_changed(string store)
    {
        var throttle = await NewThrottleAsync(store);
        var device = Devices().Issue("owner", OwnerId, Stamp);
        for (var i = 0; i < 4; i++)
        {
            await TryAsync(throttle, "owner");
        }

        Assert.Null(await TryAsync(throttle, "owner", device));

        // A new password, a role change or a sign-out everywhere: the old token is worth nothing.
        _stamps.Current = NewStamp;
        Assert.NotNull(await TryAsync(throttle, "owner", device));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task An_unanswered_attempt_is_given_back(string store)
    {
        var throttle = await NewThrottleAsync(store, freeAttempts: 2);
        for (var i = 0; i < 5; i++)
        {
            var attempt = await throttle.StartAsync("patient", null, TestContext.Current.CancellationToken);
            Assert.Null(attempt.Wait);
            await throttle.UnansweredAsync(attempt, TestContext.Current.CancellationToken);
        }

        Assert.Null(await TryAsync(throttle, "patient"));
        Assert.Null(await TryAsync(throttle, "patient"));
    }

    [Fact]
    public async Task Every_gateway_instance_sees_the_same_counts_in_Redis_and_a_restarted_one_still_does()
    {
        var first = await NewThrottleAsync("redis");
        var second = await NewThrottleAsync("redis");
        Assert.Null(await TryAsync(first, "victim"));
        Assert.Null(await TryAsync(second, "victim"));
        Assert.Null(await TryAsync(first, "victim"));
        Assert.Null(await TryAsync(second, "victim"));
        Assert.NotNull(await TryAsync(first, "victim"));

        var restarted = await NewThrottleAsync("redis");
        Assert.Equal(TimeSpan.FromSeconds(1), await TryAsync(restarted, "victim"));
        Assert.Contains("sign-in:account:VICTIM", await servers.Redis.KeysAsync(_prefix));
    }

    [Fact]
    public async Task While_Redis_is_unreachable_each_instance_still_throttles_on_its_own_and_answers_at_once()
    {
        await using var forwarder = new TcpForwarder(ServiceProcess.FreePort(), servers.Redis.Host, servers.Redis.Port);
        forwarder.Start();
        var throttle = await NewThrottleAsync("redis", redisAddress: $"127.0.0.1:{forwarder.Port}");
        Assert.Null(await TryAsync(throttle, "victim"));
        forwarder.CutAll(reset: true);
        await forwarder.DisposeAsync();

        // The count in Redis is out of reach: this instance starts its own, with the same rules.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 4; i++)
        {
            Assert.Null(await TryAsync(throttle, "victim"));
        }

        Assert.NotNull(await TryAsync(throttle, "victim"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed} without Redis");
    }

    [Fact]
    public async Task Filling_the_table_with_other_names_does_not_lift_a_block()
    {
        var throttle = await NewThrottleAsync("memory", freeAttempts: 1);
        await TryAsync(throttle, "victim");
        await TryAsync(throttle, "victim");
        Assert.NotNull(await TryAsync(throttle, "victim"));

        for (var i = 0; i < MemoryAttemptCounter.MaxBuckets + 10; i++)
        {
            await TryAsync(throttle, $"filler{i}");
        }

        Assert.NotNull(await TryAsync(throttle, "victim"));
    }

    [Fact]
    public async Task Blocking_more_names_than_the_table_holds_keeps_it_bounded_and_keeps_the_longest_block()
    {
        var throttle = await NewThrottleAsync("memory", freeAttempts: 1);
        // The victim's block (the fourth attempt: 4 s) outlasts every filler's (the second: 1 s).
        for (var i = 0; i < 3; i++)
        {
            await TryAsync(throttle, "victim");
            _time.Advance(TimeSpan.FromSeconds(4));
        }

        await TryAsync(throttle, "victim");
        for (var i = 0; i < MemoryAttemptCounter.MaxBuckets + 10; i++)
        {
            await TryAsync(throttle, $"filler{i}");
            Assert.Null(await TryAsync(throttle, $"filler{i}"));
        }

        Assert.NotNull(await TryAsync(throttle, $"filler{MemoryAttemptCounter.MaxBuckets + 9}"));
        Assert.True(throttle.MemoryBuckets <= MemoryAttemptCounter.MaxBuckets, $"{throttle.MemoryBuckets} buckets");
        Assert.NotNull(await TryAsync(throttle, "victim"));
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2::/64")]
    [InlineData("2001:db8:1:3::1", "2001:db8:1:3::/64")]
    public void A_client_is_known_by_its_IPv4_address_or_its_IPv6_64_network(string address, string expected)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);

        Assert.Equal(expected, RateLimiting.ClientAddress(context));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }
}
