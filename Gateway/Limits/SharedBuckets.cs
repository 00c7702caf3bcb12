using System.Globalization;
using Gateway.Settings;
using MovieDb.Caching;
using StackExchange.Redis;

namespace Gateway.Limits;

/// <summary>A token bucket of one policy and partition (an address, a user): its key and its limit.</summary>
internal readonly record struct Bucket(string Policy, string Partition, RateLimitingOptions.BucketLimit Limit);

/// <summary>
/// Token buckets in Redis, shared by every gateway instance, of which one request takes a token from
/// several (its address's and its user's) in <b>one</b> script call: all or none, so a refused
/// request costs no bucket anything. Each bucket is one key holding the time at which it would be
/// full again (the generic cell rate algorithm: a bucket of L tokens refilled at R a second lets L
/// through at once, then one every 1/R s), on Redis's own clock, so instances whose clocks differ
/// still agree. A proxied request used to make two calls (RedisRateLimiting's script per limiter);
/// bench/RESULTS.md has what one call saves.
/// </summary>
internal sealed class SharedBuckets(SharedCache cache)
{
    // KEYS: the buckets. ARGV[2i - 1], ARGV[2i]: bucket i's milliseconds per token and its size in
    // tokens. Returns 0 when every bucket had a token (each then gives one), otherwise the milliseconds
    // until the emptiest one has one again (and no bucket gives anything).
    private const string Script = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
        local wait = 0
        local full = {}
        for i, key in ipairs(KEYS) do
          local interval = tonumber(ARGV[2 * i - 1])
          local size = tonumber(ARGV[2 * i])
          local at = tonumber(redis.call('GET', key) or now)
          if at < now then at = now end
          full[i] = at + interval
          local short = full[i] - now - interval * size
          if short > wait then wait = short end
        end
        if wait > 0 then
          return math.ceil(wait)
        end
        for i, key in ipairs(KEYS) do
          redis.call('SET', key, string.format('%.3f', full[i]), 'PX', math.max(1, math.ceil(full[i] - now)))
        end
        return 0
        """;

    /// <summary>
    /// Takes a token from every one of <paramref name="buckets"/>, or from none; null when it did, else
    /// how long until it would. Throws what the cache throws when Redis cannot be reached
    /// (<see cref="SharedCache.IsUnavailable"/>).
    /// </summary>
    public async Task<TimeSpan?> TakeAsync(IReadOnlyList<Bucket> buckets)
    {
        var keys = new RedisKey[buckets.Count];
        var values = new RedisValue[buckets.Count * 2];
        for (var i = 0; i < buckets.Count; i++)
        {
            keys[i] = Key(buckets[i]);
            values[2 * i] = (1000.0 / buckets[i].Limit.TokensPerSecond).ToString("R", CultureInfo.InvariantCulture);
            values[(2 * i) + 1] = buckets[i].Limit.TokenLimit;
        }

        var wait = (long)await cache.Database.ScriptEvaluateAsync(Script, keys, values);
        return wait > 0 ? TimeSpan.FromMilliseconds(wait) : null;
    }

    // Every bucket key carries the same hash tag, so that one script may touch several on a Redis
    // cluster (a script's keys must share a slot); the cache's own prefix goes in front of it.
    private static RedisKey Key(Bucket bucket) => $"{{limits}}:{bucket.Policy}:{bucket.Partition}";
}
