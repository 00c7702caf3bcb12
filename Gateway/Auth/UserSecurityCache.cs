using System.Collections.Concurrent;
using Gateway.Settings;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace Gateway.Auth;

/// <summary>What the gateway knows of an account's rights when a token comes in.</summary>
public enum SecurityVerdict
{
    /// <summary>The token's stamp is the account's current one; the roles are the current roles.</summary>
    Current,

    /// <summary>The account was deleted, or its stamp changed: the token no longer works.</summary>
    Ended,

    /// <summary>
    /// What is known could not be confirmed for longer than the refresh interval (the user service
    /// cannot be asked): the token's user rights, but no admin rights.
    /// </summary>
    Unconfirmed,

    /// <summary>
    /// Nothing is known of the account here and the user service cannot be asked: the token is neither
    /// accepted nor refused — the caller is told to try again (503). An instance that just started, or
    /// that missed the news of a deletion or a sign-out everywhere, does not take an ended token on trust.
    /// </summary>
    Unknown,
}

/// <summary>
/// The security stamp and roles of the accounts this gateway instance sees, so that every request is
/// authorised on the account's rights now, not on the roles its token was issued with. Kept current
/// by <c>user.security-changed</c> broadcasts (within moments of a change, on every instance) and by
/// asking the user service again once it last vouched for an entry more than
/// <see cref="JwtOptions.SecurityStateRefreshInterval"/> ago — which bounds how long a missed
/// broadcast can leave an instance wrong. Broadcasts are signed by the user service
/// (Messaging:SigningKey); unsigned ones never reach this cache.
/// </summary>
/// <remarks>
/// A broadcast does not count as the user service vouching: it applies at once, but the next refresh
/// is due as if it had not arrived, and a broadcast about an account this instance has not asked about
/// yet is checked on its first use. Newer news wins: of two broadcasts, or two answers of the user
/// service (to a look-up, a sign-in or a refresh), the higher version (the account's, counted up by
/// every stored change; they may arrive out of order); and an answer over a broadcast, unless the
/// broadcast has the higher version and arrived while the answer may have been on its way (after a look-up's question
/// was sent; within the refresh interval before a sign-in's or a refresh's answer): that answer was
/// read before the change, and a just-demoted admin must not get its rights back from it. When the user service cannot be asked,
/// what is known still ends the tokens it has seen ended, but an entry it has not vouched for within
/// the refresh interval confirms no admin rights: the caller is Unconfirmed (user rights only) until
/// it answers again; and an account it never vouched for here — nothing known, or only a broadcast,
/// which may be an old one sent again — is Unknown (503) unless what is known ends the token.
/// </remarks>
public sealed partial class UserSecurityCache(
    IRequestClient requests,
    IOptions<JwtOptions> options,
    TimeProvider time,
    ILogger<UserSecurityCache> logger) : ICurrentStamps
{
    private const int MaxEntries = 100_000;
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry?>>> _fetches = new(StringComparer.Ordinal);

    // While the user service does not answer, each account is asked at most this often: requests
    // go on with what is known instead of each waiting for a time-out.
    internal static readonly TimeSpan RetryUnanswered = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unanswered = new(StringComparer.Ordinal);

    /// <summary>
    /// The state of one account; <see cref="State"/> null means deleted. <see cref="At"/>: when the
    /// state was learnt; <see cref="Confirmed"/>: when the user service last vouched for it.
    /// </summary>
    private sealed record Entry(SecurityState? State, long Version, DateTimeOffset At, DateTimeOffset Confirmed, bool FromBroadcast = false)
    {
        /// <summary>A deletion the user service confirmed: nothing replaces it (ids are never reused).</summary>
        public bool Final => State is null && Version == long.MaxValue;
    }

    /// <summary>Decides whether a token with the stamp hash <paramref name="stampHash"/> still speaks for <paramref name="userId"/>, and with which roles.</summary>
    public ValueTask<(SecurityVerdict Verdict, IReadOnlyList<string> Roles)> CheckAsync(string userId, string stampHash, CancellationToken cancellationToken) =>
        CheckHashAsync(userId, stampHash, cancellationToken);

    /// <summary>True when <paramref name="stampHash"/> is the account's current stamp, as the user service vouched for it within the refresh interval.</summary>
    public async ValueTask<bool> IsCurrentAsync(string userId, string stampHash, CancellationToken cancellationToken) =>
        (await CheckHashAsync(userId, stampHash, cancellationToken)).Verdict == SecurityVerdict.Current;

    private async ValueTask<(SecurityVerdict Verdict, IReadOnlyList<string> Roles)> CheckHashAsync(string userId, string stampHash, CancellationToken cancellationToken)
    {
        var entry = _entries.GetValueOrDefault(userId);
        var now = time.GetUtcNow();
        var interval = options.Value.SecurityStateRefreshInterval;
        if ((entry is null || (!entry.Final && now - entry.Confirmed >= interval))
            && !(_unanswered.TryGetValue(userId, out var failedAt) && now - failedAt < RetryUnanswered))
        {
            entry = await FetchAsync(userId, cancellationToken) ?? entry;
        }

        return entry switch
        {
            null => (SecurityVerdict.Unknown, []),
            { State: null } => (SecurityVerdict.Ended, []),
            { State: var state } when state.StampHash != stampHash => (SecurityVerdict.Ended, []),
            { Confirmed: var confirmed } when confirmed == DateTimeOffset.MinValue => (SecurityVerdict.Unknown, []),
            { Confirmed: var confirmed } when now - confirmed >= interval => (SecurityVerdict.Unconfirmed, []),
            { State: var state } => (SecurityVerdict.Current, state.Roles),
        };
    }

    /// <summary>Applies a broadcast change; older news never overwrites newer.</summary>
    public void Apply(UserSecurityChanged change)
    {
        ArgumentNullException.ThrowIfNull(change);
        var now = time.GetUtcNow();
        Store(change.UserId, new Entry(
            change.Deleted ? null : new SecurityState(change.UserId, change.StampHash, change.Roles, change.Version),
            Math.Min(change.Version, long.MaxValue - 1),
            now,
            Confirmed: _entries.GetValueOrDefault(change.UserId)?.Confirmed ?? DateTimeOffset.MinValue,
            FromBroadcast: true), authoritative: false);
    }

    /// <summary>
    /// Applies what the user service itself told, at a sign-in or a refresh. When the question was sent
    /// is not known here: a newer broadcast that arrived within the refresh interval may be news the
    /// answer had not seen, and is kept.
    /// </summary>
    public void Apply(SecurityState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var now = time.GetUtcNow();
        Store(state.UserId, new Entry(state, state.Version, now, now), authoritative: true, asked: now - options.Value.SecurityStateRefreshInterval);
    }

    /// <summary>This instance deleted the account: refuse its tokens now rather than when the broadcast arrives.</summary>
    public void MarkDeleted(string userId)
    {
        var now = time.GetUtcNow();
        Store(userId, new Entry(null, long.MaxValue, now, now), authoritative: true);
    }


    private async Task<Entry?> FetchAsync(string userId, CancellationToken cancellationToken)
    {
        // One question per account at a time, however many requests wait for the answer.
        var fetch = _fetches.GetOrAdd(userId, id => new Lazy<Task<Entry?>>(() => AskAsync(id)));
        try
        {
            return await fetch.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            _fetches.TryRemove(new KeyValuePair<string, Lazy<Task<Entry?>>>(userId, fetch));
        }
    }

    private async Task<Entry?> AskAsync(string userId)
    {
        var asked = time.GetUtcNow();
        var result = await requests.SendAsync(new GetSecurityState(userId), new RequestOptions { Timeout = FetchTimeout }, CancellationToken.None);
        Entry? entry = result switch
        {
            { Outcome: RequestOutcome.Replied, Reply: { IsOk: true, Value: { } state } } => new Entry(state, state.Version, time.GetUtcNow(), time.GetUtcNow()),
            { Outcome: RequestOutcome.Replied, Reply.Status: ReplyStatus.NotFound } => new Entry(null, long.MaxValue, time.GetUtcNow(), time.GetUtcNow()),
            _ => null,
        };

        if (entry is null)
        {
            LogNotRefreshed(userId, result.Outcome);
            if (_unanswered.Count >= MaxEntries)
            {
                _unanswered.Clear();
            }

            _unanswered[userId] = time.GetUtcNow();
            return null;
        }

        _unanswered.TryRemove(userId, out _);
        return Store(userId, entry, authoritative: true, asked);
    }

    /// <param name="userId">The account.</param>
    /// <param name="entry">What was learnt.</param>
    /// <param name="authoritative">Whether the user service said it (an answer), rather than a broadcast.</param>
    /// <param name="asked">For an answer: since when it may have been on its way.</param>
    private Entry Store(string userId, Entry entry, bool authoritative, DateTimeOffset? asked = null)
    {
        if (_entries.Count >= MaxEntries)
        {
            // Bounded: old entries go first; if that is not enough, everything is asked for again.
            var cutoff = time.GetUtcNow() - options.Value.SecurityStateRefreshInterval;
            foreach (var (id, old) in _entries)
            {
                if (old.At < cutoff)
                {
                    _entries.TryRemove(id, out _);
                }
            }

            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
            }
        }

        // A deletion the user service confirmed is final. An answer wins, except over a newer answer (two
        // answers may arrive out of order too) and over a newer broadcast that arrived while the answer may
        // have been on its way: that answer was read before the change (the broadcast keeps its Confirmed
        // time, so the next check asks again). A broadcast that came before the question loses to the
        // answer whatever its version, so no broadcast can hold an entry against the user service's word.
        // Of two broadcasts, the newer.
        return _entries.AddOrUpdate(
            userId,
            entry,
            (_, current) => current.Final ? current
                : authoritative ? (current.Version > entry.Version && (!current.FromBroadcast || current.At >= asked) ? current : entry)
                : entry.Version >= current.Version ? entry
                : current);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the rights of user {UserId} ({Outcome}); using what is known")]
    private partial void LogNotRefreshed(string userId, RequestOutcome outcome);
}

