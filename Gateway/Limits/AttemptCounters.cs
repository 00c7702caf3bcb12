using System.Collections.Concurrent;
using Gateway.Settings;
using MovieDb.Caching;
using StackExchange.Redis;

namespace Gateway.Limits;

/// <summary>
/// The counts of <see cref="SignInThrottle"/>, one per bucket (an account's clients without a device
/// token, or one device token): each attempt beyond the free ones blocks the bucket for twice as long
/// as the one before, up to the maximum; a count is forgotten after <c>ForgetAfter</c> without attempts.
/// </summary>
internal interface IAttemptCounter
{
    /// <summary>Counts an attempt unless the bucket is blocked: null when it may go ahead, otherwise how long it must wait.</summary>
    ValueTask<TimeSpan?> TryCountAsync(string bucket, RateLimitingOptions.FailureLimit limits, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Takes back one counted attempt (it got no answer).</summary>
    ValueTask GiveBackAsync(string bucket, CancellationToken cancellationToken);

    /// <summary>Forgets the bucket's count (a success).</summary>
    ValueTask ClearAsync(string bucket, CancellationToken cancellationToken);
}

internal static class AttemptRules
{
    /// <summary>How long the bucket is blocked after its <paramref name="attempts"/>-th attempt: nothing within the free ones, then 1 s, 2 s, 4 s, … up to the maximum.</summary>
    public static TimeSpan BlockAfter(int attempts, RateLimitingOptions.FailureLimit limits)
    {
        var beyond = attempts - limits.FreeAttempts;
        if (beyond <= 0)
        {
            return TimeSpan.Zero;
        }

        var delay = TimeSpan.FromSeconds(Math.Pow(2, Math.Min(beyond - 1, 30)));
        return delay < limits.MaxDelay ? delay : limits.MaxDelay;
    }
}

/// <summary>The counts in Redis, shared by every gateway instance: one hash per bucket, changed atomically by a script, expiring by itself.</summary>
internal sealed class RedisAttemptCounter(SharedCache cache) : IAttemptCounter
{
    // KEYS[1] the bucket; ARGV now (ms), free attempts, maximum delay (ms), forget-after (ms).
    // Returns -1 when the attempt was counted and may go ahead, otherwise the milliseconds to wait.
    private static readonly LuaScript Count = LuaScript.Prepare("""
        local attempts = tonumber(redis.call('HGET', @bucket, 'n') or '0')
        local blocked = tonumber(redis.call('HGET', @bucket, 'u') or '0')
        local now = tonumber(@now)
        if blocked > now then
            return blocked - now
        end
        attempts = attempts + 1
        local beyond = attempts - tonumber(@free)
        if beyond > 0 then
            blocked = now + math.floor(math.min(1000 * 2 ^ math.min(beyond - 1, 30), tonumber(@maxDelay)))
        end
        redis.call('HSET', @bucket, 'n', attempts, 'u', blocked)
        redis.call('PEXPIRE', @bucket, math.floor(math.max(tonumber(@forget), blocked - now)))
        return -1
        """);

    private static readonly LuaScript GiveBack = LuaScript.Prepare("""
        if tonumber(redis.call('HGET', @bucket, 'n') or '0') > 0 then
            redis.call('HINCRBY', @bucket, 'n', -1)
        end
        return 0
        """);

    public async ValueTask<TimeSpan?> TryCountAsync(string bucket, RateLimitingOptions.FailureLimit limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var wait = (long)await cache.Database.ScriptEvaluateAsync(Count, new
        {
            bucket = Key(bucket),
            now = now.ToUnixTimeMilliseconds(),
            free = limits.FreeAttempts,
            maxDelay = (long)limits.MaxDelay.TotalMilliseconds,
            forget = (long)limits.ForgetAfter.TotalMilliseconds,
        });
        return wait < 0 ? null : TimeSpan.FromMilliseconds(wait);
    }

    public async ValueTask GiveBackAsync(string bucket, CancellationToken cancellationToken) =>
        await cache.Database.ScriptEvaluateAsync(GiveBack, new { bucket = Key(bucket) });

    public async ValueTask ClearAsync(string bucket, CancellationToken cancellationToken) =>
        await cache.Database.KeyDeleteAsync(Key(bucket));

    private static RedisKey Key(string bucket) => "sign-in:" + bucket;
}

/// <summary>
/// The counts in this process: what a single gateway keeps without a cache, and what each instance
/// counts on its own while Redis is unreachable. Bounded (<see cref="MaxBuckets"/>): when full, the
/// buckets neither blocked nor recently used go first, then the blocks that end soonest.
/// </summary>
internal sealed class MemoryAttemptCounter : IAttemptCounter
{
    internal const int MaxBuckets = 100_000;

    private readonly ConcurrentDictionary<string, Bucket> _buckets = new(StringComparer.Ordinal);

    private sealed class Bucket
    {
        public int Attempts;
        public DateTimeOffset LastSeen;
        public DateTimeOffset BlockedUntil;
    }

    public ValueTask<TimeSpan?> TryCountAsync(string bucket, RateLimitingOptions.FailureLimit limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var entry = Get(bucket, now);
        lock (entry)
        {
            if (entry.Attempts > 0 && now - entry.LastSeen > limits.ForgetAfter && entry.BlockedUntil <= now)
            {
                entry.Attempts = 0;
            }

            if (entry.BlockedUntil > now)
            {
                return ValueTask.FromResult<TimeSpan?>(entry.BlockedUntil - now);
            }

            entry.Attempts++;
            entry.LastSeen = now;
            if (AttemptRules.BlockAfter(entry.Attempts, limits) is { } block && block > TimeSpan.Zero)
            {
                entry.BlockedUntil = now + block;
            }

            return ValueTask.FromResult<TimeSpan?>(null);
        }
    }

    public ValueTask GiveBackAsync(string bucket, CancellationToken cancellationToken)
    {
        if (_buckets.TryGetValue(bucket, out var entry))
        {
            lock (entry)
            {
                entry.Attempts = Math.Max(0, entry.Attempts - 1);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ClearAsync(string bucket, CancellationToken cancellationToken)
    {
        _buckets.TryRemove(bucket, out _);
        return ValueTask.CompletedTask;
    }

    private Bucket Get(string bucket, DateTimeOffset now)
    {
        if (_buckets.TryGetValue(bucket, out var existing))
        {
            return existing;
        }

        if (_buckets.Count >= MaxBuckets)
        {
            Evict(now);
        }

        return _buckets.GetOrAdd(bucket, _ => new Bucket());
    }

    // Bounded whatever is in it. Buckets that are not blocked go first, least recently used first,
    // until a tenth of the room is free again. Only when too few of those are left (someone blocked
    // that many buckets on purpose) do blocked ones go, those whose block ends soonest first: an
    // account under a long attack keeps its block longest.
    private void Evict(DateTimeOffset now)
    {
        var room = MaxBuckets / 10;
        var idle = _buckets
            .Where(entry => entry.Value.BlockedUntil <= now)
            .OrderBy(entry => entry.Value.LastSeen)
            .Take(room)
            .Select(entry => entry.Key)
            .ToList();
        if (idle.Count < room)
        {
            idle.AddRange(_buckets
                .Where(entry => entry.Value.BlockedUntil > now)
                .OrderBy(entry => entry.Value.BlockedUntil)
                .Take(room - idle.Count)
                .Select(entry => entry.Key));
        }

        foreach (var key in idle)
        {
            _buckets.TryRemove(key, out _);
        }
    }

    /// <summary>How many buckets are held (for tests of the bound).</summary>
    internal int Count => _buckets.Count;
}
