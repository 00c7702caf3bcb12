using System.Collections.Concurrent;
using Gateway.Settings;
using Microsoft.Extensions.Options;
using UserService.Contracts;

namespace Gateway.Auth;

/// <summary>
/// Slows down password guessing against one account, wherever the guesses come from: after
/// <c>FreeAttempts</c> attempts without a success each further attempt must wait twice as long as the
/// one before, up to <c>MaxDelay</c>. Addresses the account recently signed in from successfully are
/// exempt, so an attacker cannot lock its owner out; everyone else waits at most <c>MaxDelay</c>.
/// </summary>
/// <remarks>
/// An attempt is counted as a failure when it starts, not when its answer arrives, so a burst of
/// parallel guesses gets the same allowance as the same guesses one after another. A success clears
/// the count; an attempt that got no answer at all is given back.
/// Per gateway instance and in memory (bounded): with several instances an attacker gets each
/// instance's allowance. The per-address limits still apply on top.
/// </remarks>
public sealed class SignInThrottle(IOptions<RateLimitingOptions> options, TimeProvider time)
{
    internal const int MaxAccounts = 100_000;
    private const int TrustedAddressesPerAccount = 5;

    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);

    private sealed class Account
    {
        public int Attempts;
        public DateTimeOffset LastSeen;
        public DateTimeOffset BlockedUntil;
        public readonly List<string> Trusted = [];
    }

    /// <summary>
    /// Starts a sign-in to <paramref name="userName"/> from <paramref name="address"/>: null when it may
    /// go ahead (and it is then counted), otherwise how long it must wait.
    /// </summary>
    public TimeSpan? TryStart(string userName, string address)
    {
        var limits = options.Value.SignInFailures;
        var now = time.GetUtcNow();
        var account = Get(userName, now);
        lock (account)
        {
            Forget(account, now);
            if (account.BlockedUntil > now && !account.Trusted.Contains(address))
            {
                return account.BlockedUntil - now;
            }

            account.Attempts++;
            account.LastSeen = now;
            var beyond = account.Attempts - limits.FreeAttempts;
            if (beyond > 0)
            {
                var delay = TimeSpan.FromSeconds(Math.Pow(2, Math.Min(beyond - 1, 30)));
                account.BlockedUntil = now + (delay < limits.MaxDelay ? delay : limits.MaxDelay);
            }

            return null;
        }
    }

    /// <summary>The attempt got no answer (the user service was unavailable): it does not count.</summary>
    public void Unanswered(string userName)
    {
        if (_accounts.TryGetValue(Key(userName), out var account))
        {
            lock (account)
            {
                account.Attempts = Math.Max(0, account.Attempts - 1);
            }
        }
    }

    public void Succeeded(string userName, string address)
    {
        var account = Get(userName, time.GetUtcNow());
        lock (account)
        {
            account.Attempts = 0;
            account.BlockedUntil = default;
            account.LastSeen = time.GetUtcNow();
            account.Trusted.Remove(address);
            account.Trusted.Add(address);
            if (account.Trusted.Count > TrustedAddressesPerAccount)
            {
                account.Trusted.RemoveAt(0);
            }
        }
    }

    private void Forget(Account account, DateTimeOffset now)
    {
        if (account.Attempts > 0 && now - account.LastSeen > options.Value.SignInFailures.ForgetAfter)
        {
            account.Attempts = 0;
            account.BlockedUntil = default;
        }
    }

    private Account Get(string userName, DateTimeOffset now)
    {
        var key = Key(userName);
        if (_accounts.TryGetValue(key, out var existing))
        {
            return existing;
        }

        if (_accounts.Count >= MaxAccounts)
        {
            Evict(now);
        }

        return _accounts.GetOrAdd(key, _ => new Account());
    }

    // Bounded without forgetting the accounts under attack: entries that are neither blocked nor
    // recently seen go first, oldest first, until a tenth of the room is free again.
    private void Evict(DateTimeOffset now)
    {
        var idle = _accounts
            .Where(entry => entry.Value.BlockedUntil <= now)
            .OrderBy(entry => entry.Value.LastSeen)
            .Take(MaxAccounts / 10)
            .Select(entry => entry.Key)
            .ToList();
        foreach (var key in idle)
        {
            _accounts.TryRemove(key, out _);
        }
    }

    // The same account whatever the spelling the guesser tries ("ADMIN", " admin").
    private static string Key(string userName) => UserRules.NormalizeUserName(userName.Length > UserRules.UserNameMaxLength ? userName[..UserRules.UserNameMaxLength] : userName);
}
