using Gateway.Auth;
using Gateway.Settings;
using Microsoft.Extensions.Options;
using MovieDb.Caching;
using UserService.Contracts;

namespace Gateway.Limits;

/// <summary>
/// Slows down password guessing against one account, wherever the guesses come from — at sign-in and
/// at every other check of a password (an account change with the current password): after
/// <c>FreeAttempts</c> attempts without a success each further attempt must wait twice as long as the
/// one before, up to <c>MaxDelay</c>. A client that presents a device token of the account
/// (<see cref="DeviceTokens"/>: it signed in successfully before, and the account's stamp has not
/// changed since) is counted on its own, so an attacker cannot make the owner wait; everyone else waits
/// at most <c>MaxDelay</c>.
/// </summary>
/// <remarks>
/// An attempt is counted as a failure when it starts, not when its answer arrives, so a burst of
/// parallel guesses gets the same allowance as the same guesses one after another. A success clears
/// the count it was made on; an attempt that got no answer at all is given back. The counts live in the
/// cache, shared by every gateway instance and kept across restarts; while Redis is unreachable each
/// instance counts alone (<see cref="MemoryAttemptCounter"/>), so guessing is still slowed down.
/// </remarks>
public sealed class SignInThrottle(
    IOptions<RateLimitingOptions> options,
    TimeProvider time,
    SharedCache cache,
    DeviceTokens devices,
    ICurrentStamps stamps)
{
    private readonly MemoryAttemptCounter _memory = new();

    /// <summary>How many counts this instance holds in memory (for tests of its bound).</summary>
    internal int MemoryBuckets => _memory.Count;
    private readonly RedisAttemptCounter? _redis = cache.IsConfigured ? new RedisAttemptCounter(cache) : null;

    /// <summary>
    /// Starts an attempt on the account <paramref name="userName"/> names, by a client holding
    /// <paramref name="deviceToken"/> (or none). When <see cref="SignInAttempt.Wait"/> is null it may go
    /// ahead and is counted; otherwise it must wait that long.
    /// </summary>
    public async ValueTask<SignInAttempt> StartAsync(string userName, string? deviceToken, CancellationToken cancellationToken = default)
    {
        // A device token counts only while the account's stamp is the one it was issued under (and the
        // user service can say so): otherwise the client is counted with everyone else.
        var device = devices.Validate(deviceToken, userName);
        var bucket = device is not null && await stamps.IsCurrentAsync(device.UserId, device.StampHash, cancellationToken)
            ? "device:" + device.Id
            : "account:" + Key(userName);
        var limits = options.Value.SignInFailures;
        var wait = await CountAsync(counter => counter.TryCountAsync(bucket, limits, time.GetUtcNow(), cancellationToken));
        return new SignInAttempt(bucket, wait);
    }

    /// <summary>The attempt succeeded: its count is cleared.</summary>
    public ValueTask SucceededAsync(SignInAttempt attempt, CancellationToken cancellationToken = default) =>
        DoAsync(counter => counter.ClearAsync(attempt.Bucket, cancellationToken));

    /// <summary>The attempt got no answer (the user service was unavailable): it does not count.</summary>
    public ValueTask UnansweredAsync(SignInAttempt attempt, CancellationToken cancellationToken = default) =>
        DoAsync(counter => counter.GiveBackAsync(attempt.Bucket, cancellationToken));

    // The same account whatever the spelling the guesser tries ("ADMIN", " admin").
    internal static string Key(string userName) => UserRules.NormalizeUserName(userName.Length > UserRules.UserNameMaxLength ? userName[..UserRules.UserNameMaxLength] : userName);

    private ValueTask<TimeSpan?> CountAsync(Func<IAttemptCounter, ValueTask<TimeSpan?>> count) =>
        _redis is null
            ? count(_memory)
            : cache.RunAsync("the sign-in throttle", async _ => await count(_redis), () => count(_memory));

    private async ValueTask DoAsync(Func<IAttemptCounter, ValueTask> action) =>
        await CountAsync(async counter =>
        {
            await action(counter);
            return null;
        });
}

/// <summary>An attempt started by <see cref="SignInThrottle.StartAsync"/>: the count it is made on, and how long it must wait (null: it may go ahead).</summary>
public sealed record SignInAttempt(string Bucket, TimeSpan? Wait);
