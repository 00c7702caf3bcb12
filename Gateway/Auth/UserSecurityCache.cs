using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;

namespace Gateway.Auth;

/// <summary>What the gateway knows of an account's rights when a token comes in.</summary>
public enum SecurityVerdict
{
    /// <summary>The token's stamp is the account's current one; the roles are the current roles.</summary>
    Current,

    /// <summary>The account was deleted, or its stamp changed: the token no longer works.</summary>
    Ended,

    /// <summary>Nothing known and the user service cannot be asked (broker away).</summary>
    Unknown,
}

/// <summary>
/// The security stamp and roles of the accounts this gateway instance sees, so that every request is
/// authorised on the account's rights now, not on the roles its token was issued with. Kept current
/// by <c>user.security-changed</c> broadcasts (within moments of a change, on every instance) and,
/// for an entry older than <see cref="JwtOptions.SecurityStateRefreshInterval"/>, by asking the user
/// service again — which bounds how long a missed broadcast can leave an instance wrong.
/// </summary>
/// <remarks>
/// When the user service cannot be asked, the last known state is used; with none, the caller is
/// Unknown and gets no admin rights (the gateway's token validation). Every change to an account goes through
/// the broker, so while the broker is away nothing can change that this instance has not heard of.
/// </remarks>
public sealed partial class UserSecurityCache(
    IRequestClient requests,
    IOptions<JwtOptions> options,
    TimeProvider time,
    ILogger<UserSecurityCache> logger)
{
    private const int MaxEntries = 100_000;
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<Entry?>>> _fetches = new(StringComparer.Ordinal);

    // While the user service does not answer, each account is asked at most this often: requests
    // go on with what is known instead of each waiting for a time-out.
    private static readonly TimeSpan RetryUnanswered = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _unanswered = new(StringComparer.Ordinal);

    /// <summary>The state of one account; <see cref="State"/> null means deleted.</summary>
    private sealed record Entry(SecurityState? State, long Version, DateTimeOffset At);

    /// <summary>Decides whether a token with <paramref name="stamp"/> still speaks for <paramref name="userId"/>, and with which roles.</summary>
    public async ValueTask<(SecurityVerdict Verdict, IReadOnlyList<string> Roles)> CheckAsync(string userId, string stamp, CancellationToken cancellationToken)
    {
        var entry = _entries.GetValueOrDefault(userId);
        var now = time.GetUtcNow();
        if ((entry is null || now - entry.At >= options.Value.SecurityStateRefreshInterval)
            && !(_unanswered.TryGetValue(userId, out var failedAt) && now - failedAt < RetryUnanswered))
        {
            entry = await FetchAsync(userId, cancellationToken) ?? entry;
        }

        return entry switch
        {
            null => (SecurityVerdict.Unknown, []),
            { State: null } => (SecurityVerdict.Ended, []),
            { State: var state } when state.SecurityStamp != stamp => (SecurityVerdict.Ended, []),
            { State: var state } => (SecurityVerdict.Current, state.Roles),
        };
    }

    /// <summary>Applies a broadcast change; older news never overwrites newer.</summary>
    public void Apply(UserSecurityChanged change)
    {
        ArgumentNullException.ThrowIfNull(change);
        Store(change.UserId, new Entry(change.Deleted ? null : new SecurityState(change.UserId, change.SecurityStamp, change.Roles, change.Version), change.Deleted ? long.MaxValue : change.Version, time.GetUtcNow()));
    }

    /// <summary>Applies what the user service told at a sign-in or refresh.</summary>
    public void Apply(SecurityState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Store(state.UserId, new Entry(state, state.Version, time.GetUtcNow()));
    }

    /// <summary>This instance deleted the account: refuse its tokens now rather than when the broadcast arrives.</summary>
    public void MarkDeleted(string userId) => Store(userId, new Entry(null, long.MaxValue, time.GetUtcNow()));

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
        var result = await requests.SendAsync(new GetSecurityState(userId), new RequestOptions { Timeout = FetchTimeout }, CancellationToken.None);
        Entry? entry = result switch
        {
            { Outcome: RequestOutcome.Replied, Reply: { IsOk: true, Value: { } state } } => new Entry(state, state.Version, time.GetUtcNow()),
            { Outcome: RequestOutcome.Replied, Reply.Status: ReplyStatus.NotFound } => new Entry(null, long.MaxValue, time.GetUtcNow()),
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
        return Store(userId, entry);
    }

    private Entry Store(string userId, Entry entry)
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

        return _entries.AddOrUpdate(
            userId,
            entry,
            (_, current) => entry.Version >= current.Version ? entry : current);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the rights of user {UserId} ({Outcome}); using what is known")]
    private partial void LogNotRefreshed(string userId, RequestOutcome outcome);
}

/// <summary>The per-instance subscription that keeps <see cref="UserSecurityCache"/> current.</summary>
internal sealed class UserSecurityChangedListener(UserSecurityCache cache) : IEventConsumer<UserSecurityChanged>
{
    public Task HandleAsync(UserSecurityChanged message, CancellationToken cancellationToken)
    {
        cache.Apply(message);
        return Task.CompletedTask;
    }
}
