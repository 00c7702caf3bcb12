using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Features.Deletion;

/// <summary><c>users.delete</c>: an admin deletes an account; idempotent by request id; publishes <c>user.deleted</c>.</summary>
internal sealed partial class DeletionRequests(
    IUserStore store,
    AccountAccess accounts,
    CommandInbox inbox,
    IEventPublisher events,
    TimeProvider time,
    ILogger<DeletionRequests> logger)
    : IRequestHandler<DeleteUser, Empty>
{
    public Task<Reply<Empty>> HandleAsync(DeleteUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, () => DeleteAsync(context.RequestId, request, cancellationToken), cancellationToken);

    /// <summary>
    /// Deletes the account: it becomes a tombstone (one write, with this request id), then
    /// <c>user.deleted</c> goes out and its sessions are removed. A redelivery at any point finds the
    /// tombstone and finishes; consumers of the event are idempotent.
    /// </summary>
    internal async Task<Reply<Empty>> DeleteAsync(string requestId, DeleteUser command, CancellationToken cancellationToken)
    {
        if (await DeletedByAsync(command, requestId, cancellationToken) is { } tombstone)
        {
            return await FinishDeletionAsync(tombstone, command.Actor.UserId, cancellationToken);
        }

        var (caller, refused) = await accounts.CallerAsync<Empty>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (!caller!.IsAdmin)
        {
            return Replies.Forbidden<Empty>("Only an admin may delete accounts.");
        }

        var deleted = await accounts.ChangeAsync(command.UserId, caller.Id, requestId, async user =>
        {
            if (user.IsBootstrapAdmin)
            {
                return Replies.Forbidden<Empty>("The bootstrap admin account cannot be deleted.");
            }

            if (user.IsAdmin && await store.CountAdminsAsync(cancellationToken) <= 1)
            {
                return Reply<Empty>.Fail(ReplyStatus.Conflict, "Last admin", "The last admin cannot be deleted.");
            }

            user.DeletedAt = User.Timestamp(time);
            user.DeletionRequestId = requestId;
            user.UserName = string.Empty;
            user.NormalizedUserName = user.NormalizedEmail = user.UserNameSkeleton = $"#deleted:{user.Id}";
            user.Email = string.Empty;
            user.PasswordHash = string.Empty;
            user.Roles = [];
            user.SecurityStamp = User.NewStamp();
            return null;
        }, user => FinishDeletionAsync(user, command.Actor.UserId, cancellationToken), cancellationToken);

        // Two deliveries of one deletion at once: the one that lost the race finds the other's tombstone.
        return deleted.Status == ReplyStatus.NotFound && await DeletedByAsync(command, requestId, cancellationToken) is { } done
            ? await FinishDeletionAsync(done, command.Actor.UserId, cancellationToken)
            : deleted;
    }

    private async Task<User?> DeletedByAsync(DeleteUser command, string requestId, CancellationToken cancellationToken) =>
        command.Actor is not null && await store.FindTombstoneAsync(command.UserId, cancellationToken) is { } tombstone && tombstone.Applied(command.Actor.UserId, requestId)
            ? tombstone
            : null;

    private async Task<Reply<Empty>> FinishDeletionAsync(User tombstone, string actorId, CancellationToken cancellationToken)
    {
        await events.PublishAsync(new UserDeleted(tombstone.Id, time.GetUtcNow()), cancellationToken);
        await accounts.PublishSecurityChangeAsync(tombstone, cancellationToken);
        await store.DeleteSessionsOfUserAsync(tombstone.Id, cancellationToken);
        LogDeleted(tombstone.Id, actorId);
        return Reply<Empty>.Ok(Empty.Instance);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted user {UserId} (by {ActorId})")]
    private partial void LogDeleted(string userId, string actorId);
}
