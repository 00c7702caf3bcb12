using System.Net;
using Gateway.Apis;
using Gateway.Auth;
using Gateway.Settings;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MovieDb.Tests.Unit;

/// <summary>The per-account sign-in throttle and the client address it and the rate limits key on.</summary>
public sealed class SignInThrottleTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    private SignInThrottle NewThrottle(int freeAttempts = 3) =>
        new(Options.Create(new RateLimitingOptions { SignInFailures = new() { FreeAttempts = freeAttempts, MaxDelay = TimeSpan.FromSeconds(60) } }), _time);

    [Fact]
    public void A_burst_of_parallel_guesses_gets_no_more_attempts_than_the_same_guesses_one_by_one()
    {
        var throttle = NewThrottle(freeAttempts: 3);

        // Fifty guesses start before any answer arrives.
        var started = 0;
        Parallel.For(0, 50, i =>
        {
            if (throttle.TryStart("victim", $"10.0.{i / 250}.{i % 250}") is null)
            {
                Interlocked.Increment(ref started);
            }
        });

        // The free attempts and the one after them (which sets the first delay), no more.
        Assert.Equal(4, started);
        Assert.Equal(TimeSpan.FromSeconds(1), throttle.TryStart("VICTIM", "10.9.9.9"));
    }

    [Fact]
    public void Each_attempt_beyond_the_free_ones_waits_twice_as_long_up_to_the_maximum()
    {
        var throttle = NewThrottle(freeAttempts: 1);
        Assert.Null(throttle.TryStart("victim", "10.0.0.1"));
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 8; i++)
        {
            // Each attempt that goes ahead sets the wait for the next one.
            Assert.Null(throttle.TryStart("victim", "10.0.0.1"));
            var wait = throttle.TryStart("victim", "10.0.0.1")!.Value;
            waits.Add(wait);
            _time.Advance(wait);
        }

        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public void The_owners_address_is_not_held_up_and_a_success_clears_the_count()
    {
        var throttle = NewThrottle(freeAttempts: 1);
        Assert.Null(throttle.TryStart("owner", "192.0.2.1"));
        throttle.Succeeded("owner", "192.0.2.1");
        for (var i = 0; i < 5; i++)
        {
            throttle.TryStart("owner", "203.0.113.66");
        }

        Assert.NotNull(throttle.TryStart("owner", "203.0.113.66"));
        Assert.Null(throttle.TryStart("owner", "192.0.2.1"));

        throttle.Succeeded("owner", "192.0.2.1");
        Assert.Null(throttle.TryStart("owner", "203.0.113.66"));
    }

    [Fact]
    public void An_unanswered_attempt_is_given_back()
    {
        var throttle = NewThrottle(freeAttempts: 2);
        for (var i = 0; i < 10; i++)
        {
            Assert.Null(throttle.TryStart("patient", "10.0.0.1"));
            throttle.Unanswered("patient");
        }

        Assert.Null(throttle.TryStart("patient", "10.0.0.1"));
        Assert.Null(throttle.TryStart("patient", "10.0.0.1"));
    }

    [Fact]
    public void Filling_the_table_with_other_names_does_not_lift_a_block()
    {
        var throttle = NewThrottle(freeAttempts: 1);
        throttle.TryStart("victim", "10.0.0.1");
        throttle.TryStart("victim", "10.0.0.1");
        Assert.NotNull(throttle.TryStart("victim", "10.0.0.1"));

        for (var i = 0; i < SignInThrottle.MaxAccounts + 10; i++)
        {
            throttle.TryStart($"filler{i}", "10.0.0.2");
        }

        Assert.NotNull(throttle.TryStart("victim", "10.0.0.1"));
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
}
