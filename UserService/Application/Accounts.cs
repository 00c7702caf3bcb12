using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using UserService.Contracts;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Application;

/// <summary>
/// The account operations behind the request handlers (this file: reading accounts, and what every
/// change shares; <c>Accounts.Registration.cs</c>, <c>Accounts.Changes.cs</c> and
/// <c>Accounts.Activation.cs</c> hold the rest). Every operation on behalf of a caller starts
/// from the caller's account as stored now (<see cref="Actor"/>): rights are never taken from the
/// message. Every change is one conditional write of one account document that also records the
/// command's request id, so a redelivered command finds its own effect and answers as it did.
/// </summary>
internal sealed partial class Accounts(
    IUserStore store,
    Passwords passwords,
    Sessions sessions,
    IEventPublisher events,
    IOptions<AdminOptions> admin,
    IOptions<AccountOptions> accountOptions,
    TimeProvider time,
    ILogger<Accounts> logger)
{
    private const string TakenTitle = "Already registered";

    // Optimistic concurrency: a change that lost a race is read again and re-applied this many times.
    private const int MaxAttempts = 5;

    public async Task<Reply<UserDto>> GetAsync(GetUser query, CancellationToken cancellationToken)
    {
        var (caller, refused) = await CallerAsync<UserDto>(query.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (caller!.Id != query.UserId && !caller.IsAdmin)
        {
            return Forbidden<UserDto>("Only an admin may read another account.");
        }

        // Reading oneself (GET /api/users/me, the common case) needs no second read: the caller's
        // account was just read, in the same state.
        var user = caller.Id == query.UserId ? caller : await store.FindByIdAsync(query.UserId, cancellationToken);
        return user is not null ? Reply<UserDto>.Ok(user.ToDto()) : NotFound<UserDto>();
    }

    public async Task<Reply<UserPage>> ListAsync(ListUsers query, CancellationToken cancellationToken)
    {
        if (PagingRules.Check(query.Page, query.PageSize) is { Count: > 0 } errors)
        {
            return Reply<UserPage>.Fail(ReplyStatus.Invalid, "Invalid paging", null, errors);
        }

        var (caller, refused) = await CallerAsync<UserPage>(query.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (!caller!.IsAdmin)
        {
            return Forbidden<UserPage>("Only an admin may list accounts.");
        }

        var (items, total) = await store.ListAsync(PagingRules.Offset(query.Page, query.PageSize), query.PageSize, cancellationToken);
        return Reply<UserPage>.Ok(new UserPage([.. items.Select(u => u.ToDto())], query.Page, query.PageSize, total));
    }

    public async Task<Reply<SecurityState>> GetSecurityStateAsync(string userId, CancellationToken cancellationToken) =>
        await store.FindByIdAsync(userId, cancellationToken) is { } user
            ? Reply<SecurityState>.Ok(user.ToSecurityState())
            : NotFound<SecurityState>();

    /// <summary>
    /// Reads the account, lets <paramref name="change"/> check and change it (it returns a reply to
    /// refuse), and stores it with <paramref name="requestId"/> only if nobody stored another change
    /// since it was read; otherwise starts over. A request id already recorded on the account means
    /// this command took effect before (a redelivery): <paramref name="done"/> answers again. Without
    /// a request id the change is applied on every call (for changes a redelivery must repeat).
    /// </summary>
    private async Task<Reply<T>> ChangeAsync<T>(
        string userId,
        string actorId,
        string? requestId,
        Func<User, Task<Reply<T>?>> change,
        Func<User, Task<Reply<T>>> done,
        CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            if (await store.FindByIdAsync(userId, cancellationToken) is not { } user)
            {
                return NotFound<T>();
            }

            if (requestId is not null && user.Applied(actorId, requestId))
            {
                return await done(user);
            }

            var expectedVersion = user.Version;
            if (await change(user) is { } refused)
            {
                return refused;
            }

            user.UpdatedAt = User.Timestamp(time);
            if (requestId is not null)
            {
                user.Remember(actorId, requestId);
            }

            switch (await store.UpdateAsync(user, expectedVersion, cancellationToken))
            {
                case UserUpdateResult.Updated:
                    return await done(user);
                case UserUpdateResult.Duplicate:
                    return Reply<T>.Fail(ReplyStatus.Conflict, TakenTitle, "The e-mail address is already registered.");
                case UserUpdateResult.NotFound:
                    return NotFound<T>();
                default:
                    LogConcurrentChange(userId, attempt);
                    break;
            }
        }

        return Reply<T>.Fail(ReplyStatus.Conflict, "Changed concurrently", "The account kept changing while this change was applied; try again.");
    }

    /// <summary>The account, if the command <paramref name="requestId"/> of <paramref name="actor"/> already changed it.</summary>
    private async Task<User?> AppliedAsync(string userId, Actor? actor, string requestId, CancellationToken cancellationToken) =>
        actor is not null && await store.FindByIdAsync(userId, cancellationToken) is { } user && user.Applied(actor.UserId, requestId) ? user : null;

    /// <summary>The caller's account as stored now, or the reply that refuses the request.</summary>
    private async Task<(User? Caller, Reply<T>? Refused)> CallerAsync<T>(Actor? actor, CancellationToken cancellationToken)
    {
        if (actor is null || string.IsNullOrEmpty(actor.UserId))
        {
            return (null, Reply<T>.Fail(ReplyStatus.Unauthorized, "Unauthorized", "The request names no caller."));
        }

        var caller = await store.FindByIdAsync(actor.UserId, cancellationToken);
        if (caller is null || !System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.UTF8.GetBytes(User.StampHash(caller.CurrentStamp)), System.Text.Encoding.UTF8.GetBytes(actor.StampHash ?? string.Empty)))
        {
            return (null, Reply<T>.Fail(ReplyStatus.Unauthorized, "Session ended", "The account was deleted, or its roles or password changed, or it was signed out everywhere: sign in again."));
        }

        return (caller, null);
    }

    // A broadcast: every gateway instance keeps its own cache of rights, and one that is not running
    // needs none of it (it asks the user service when it starts seeing the account).
    private Task PublishSecurityChangeAsync(User user, CancellationToken cancellationToken) =>
        events.BroadcastAsync(
            new UserSecurityChanged(user.Id, User.StampHash(user.CurrentStamp), [.. user.Roles], user.DeletedAt is not null, user.Version, time.GetUtcNow()),
            cancellationToken);

    private static Reply<T> NotFound<T>() => Reply<T>.Fail(ReplyStatus.NotFound, "User not found");

    private static Reply<T> Forbidden<T>(string detail) => Reply<T>.Fail(ReplyStatus.Forbidden, "Forbidden", detail);

    [LoggerMessage(Level = LogLevel.Debug, Message = "User {UserId} changed while a change was applied (attempt {Attempt}); reading it again")]
    private partial void LogConcurrentChange(string userId, int attempt);
}
