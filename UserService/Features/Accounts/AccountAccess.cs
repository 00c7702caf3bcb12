using System.Security.Cryptography;
using System.Text;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using UserService.Contracts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Features.Accounts;

/// <summary>
/// What the account features share. An operation on behalf of a caller starts from the caller's
/// account as stored now (<see cref="CallerAsync"/>): rights are never taken from the message. A
/// change is one conditional write of one account document that also records the command's request
/// id (<see cref="ChangeAsync"/>), so a redelivered command finds its own effect and answers as it did.
/// </summary>
internal sealed partial class AccountAccess(IUserStore store, IEventPublisher events, TimeProvider time, ILogger<AccountAccess> logger)
{
    /// <summary>The actor id of changes made by whoever holds a mailed link: no account calls.</summary>
    public const string Anonymous = "anonymous";

    // Optimistic concurrency: a change that lost a race is read again and re-applied this many times.
    private const int MaxAttempts = 5;

    /// <summary>
    /// Reads the account, lets <paramref name="change"/> check and change it (it returns a reply to
    /// refuse), and stores it with <paramref name="requestId"/> only if nobody stored another change
    /// since it was read; otherwise starts over. A request id already recorded on the account means
    /// this command took effect before (a redelivery): <paramref name="done"/> answers again. Without
    /// a request id the change is applied on every call (for changes a redelivery must repeat).
    /// </summary>
    public async Task<Reply<T>> ChangeAsync<T>(
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
                return Replies.NotFound<T>();
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
                    return Reply<T>.Fail(ReplyStatus.Conflict, Replies.TakenTitle, "The e-mail address is already registered.");
                case UserUpdateResult.NotFound:
                    return Replies.NotFound<T>();
                default:
                    LogConcurrentChange(userId, attempt);
                    break;
            }
        }

        return Reply<T>.Fail(ReplyStatus.Conflict, "Changed concurrently", "The account kept changing while this change was applied; try again.");
    }

    /// <summary>The account, if the command <paramref name="requestId"/> of <paramref name="actor"/> already changed it.</summary>
    public async Task<User?> AppliedAsync(string userId, Actor? actor, string requestId, CancellationToken cancellationToken) =>
        actor is not null && await store.FindByIdAsync(userId, cancellationToken) is { } user && user.Applied(actor.UserId, requestId) ? user : null;

    /// <summary>The caller's account as stored now, or the reply that refuses the request.</summary>
    public async Task<(User? Caller, Reply<T>? Refused)> CallerAsync<T>(Actor? actor, CancellationToken cancellationToken)
    {
        if (actor is null || string.IsNullOrEmpty(actor.UserId))
        {
            return (null, Reply<T>.Fail(ReplyStatus.Unauthorized, "Unauthorized", "The request names no caller."));
        }

        var caller = await store.FindByIdAsync(actor.UserId, cancellationToken);
        if (caller is null || !CryptographicOperations.FixedTimeEquals(
                Encoding.UTF8.GetBytes(User.StampHash(caller.CurrentStamp)), Encoding.UTF8.GetBytes(actor.StampHash ?? string.Empty)))
        {
            return (null, Reply<T>.Fail(ReplyStatus.Unauthorized, "Session ended", "The account was deleted, or its roles or password changed, or it was signed out everywhere: sign in again."));
        }

        return (caller, null);
    }

    /// <summary>The live account with this user name or e-mail address (as a person types either), or null.</summary>
    public async Task<User?> FindByUserNameOrEmailAsync(string? userName, string? email, CancellationToken cancellationToken) => (userName, email) switch
    {
        ({ Length: > 0 and <= UserRules.UserNameMaxLength } name, _) when !UserRules.HasControlCharacters(name) => await store.FindByUserNameAsync(UserRules.NormalizeUserName(name), cancellationToken),
        (null, { Length: > 0 and <= UserRules.EmailMaxLength } address) => await store.FindByEmailAsync(UserRules.NormalizeEmail(address), cancellationToken),
        _ => null,
    };

    /// <summary>
    /// Tells every gateway instance the account's rights as they are now. A broadcast: each instance
    /// keeps its own cache of rights, and one that is not running needs none of it (it asks the user
    /// service when it starts seeing the account).
    /// </summary>
    public Task PublishSecurityChangeAsync(User user, CancellationToken cancellationToken) =>
        events.BroadcastAsync(
            new UserSecurityChanged(user.Id, User.StampHash(user.CurrentStamp), [.. user.Roles], user.DeletedAt is not null, user.Version, time.GetUtcNow()),
            cancellationToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "User {UserId} changed while a change was applied (attempt {Attempt}); reading it again")]
    private partial void LogConcurrentChange(string userId, int attempt);
}
