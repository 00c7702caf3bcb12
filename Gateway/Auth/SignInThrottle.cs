using System.Collections.Concurrent;
using Gateway.Apis;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;

namespace Gateway.Auth;

/// <summary>
/// Slows down password guessing against one account, wherever the guesses come from: after
/// <c>FreeAttempts</c> failures each further attempt must wait twice as long as the one before, up to
/// <c>MaxDelay</c>. Addresses the account recently signed in from successfully are exempt, so an
/// attacker cannot lock its owner out; everyone else waits at most <c>MaxDelay</c>.
/// </summary>
/// <remarks>
/// Per gateway instance and in memory (bounded): with several instances an attacker gets each
/// instance's allowance. The per-address limits still apply on top.
/// </remarks>
public sealed class SignInThrottle(IOptions<RateLimitingOptions> options, TimeProvider time)
{
    private const int MaxAccounts = 100_000;
    private const int TrustedAddressesPerAccount = 5;

    private readonly ConcurrentDictionary<string, Account> _accounts = new(StringComparer.Ordinal);

    private sealed class Account
    {
        public int Failures;
        public DateTimeOffset LastSeen;
        public DateTimeOffset BlockedUntil;
        public readonly List<string> Trusted = [];
    }

    /// <summary>How long a sign-in to <paramref name="userName"/> from <paramref name="address"/> must wait, or null when it may go ahead.</summary>
    public TimeSpan? RetryAfter(string userName, string address)
    {
        if (!_accounts.TryGetValue(Key(userName), out var account))
        {
            return null;
        }

        var now = time.GetUtcNow();
        lock (account)
        {
            Forget(account, now);
            return account.BlockedUntil > now && !account.Trusted.Contains(address) ? account.BlockedUntil - now : null;
        }
    }

    public void Failed(string userName)
    {
        var limits = options.Value.SignInFailures;
        var now = time.GetUtcNow();
        var account = Get(userName);
        lock (account)
        {
            Forget(account, now);
            account.Failures++;
            account.LastSeen = now;
            var beyond = account.Failures - limits.FreeAttempts;
            if (beyond > 0)
            {
                var delay = TimeSpan.FromSeconds(Math.Pow(2, Math.Min(beyond - 1, 30)));
                account.BlockedUntil = now + (delay < limits.MaxDelay ? delay : limits.MaxDelay);
            }
        }
    }

    public void Succeeded(string userName, string address)
    {
        var account = Get(userName);
        lock (account)
        {
            account.Failures = 0;
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
        if (account.Failures > 0 && now - account.LastSeen > options.Value.SignInFailures.ForgetAfter)
        {
            account.Failures = 0;
            account.BlockedUntil = default;
        }
    }

    private Account Get(string userName)
    {
        if (_accounts.Count >= MaxAccounts)
        {
            // Bounded: accounts not seen for a day go first; if that is not enough, start afresh.
            var cutoff = time.GetUtcNow() - TimeSpan.FromDays(1);
            foreach (var (key, account) in _accounts)
            {
                if (account.LastSeen < cutoff)
                {
                    _accounts.TryRemove(key, out _);
                }
            }

            if (_accounts.Count >= MaxAccounts)
            {
                _accounts.Clear();
            }
        }

        return _accounts.GetOrAdd(Key(userName), _ => new Account());
    }

    // The same account whatever the spelling the guesser tries ("ADMIN", " admin").
    private static string Key(string userName) => UserRules.NormalizeUserName(userName.Length > UserRules.UserNameMaxLength ? userName[..UserRules.UserNameMaxLength] : userName);
}
