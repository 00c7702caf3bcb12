using MovieDb.Messaging.Contracts;
using UserService.Contracts;
using UserService.Model;

namespace UserService.Application;

/// <summary>
/// The ends of an account's use on behalf of a caller: sign-out everywhere and deletion, each one
/// conditional write that also records the command's request id (<see cref="ChangeAsync"/>).
/// </summary>
internal sealed partial class Accounts
{
    /// <summary>Signs an account out everywhere: a new security stamp.</summary>
    public async Task<Reply<Empty>> RevokeAllSessionsAsync(string requestId, RevokeAllSessions command, CancellationToken cancellationToken)
    {
        if (await AppliedAsync(command.UserId, command.Actor, requestId, cancellationToken) is { } applied)
        {
            await PublishSecurityChangeAsync(applied, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }

        var (caller, refused) = await CallerAsync<Empty>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        return await ChangeAsync(command.UserId, caller!.Id, requestId, user =>
        {
            if (caller!.Id != user.Id && !(caller.IsAdmin && !user.IsAdmin))
            {
                return Task.FromResult<Reply<Empty>?>(Forbidden<Empty>("Only the account itself, or an admin for an account that is not an admin, may end its sessions."));
            }

            user.SecurityStamp = User.NewStamp();
            return Task.FromResult<Reply<Empty>?>(null);
        }, async user =>
        {
            await PublishSecurityChangeAsync(user, cancellationToken);
            return Reply<Empty>.Ok(Empty.Instance);
        }, cancellationToken);
    }

    /// <summary>
    /// Deletes the account: it becomes a tombstone (one write, with this request id), then
    /// <c>user.deleted</c> goes out and its sessions are removed. A redelivery at any point finds the
    /// tombstone and finishes; consumers of the event are idempotent.
    /// </summary>
    public async Task<Reply<Empty>> DeleteAsync(string requestId, DeleteUser command, CancellationToken cancellationToken)
    {
        if (await DeletedByAsync(command, requestId, cancellationToken) is { } tombstone)
        {
            return await FinishDeletionAsync(tombstone, command.Actor.UserId, cancellationToken);
        }

        var (caller, refused) = await CallerAsync<Empty>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (!caller!.IsAdmin)
        {
            return Forbidden<Empty>("Only an admin may delete accounts.");
        }

        var deleted = await ChangeAsync(command.UserId, caller.Id, requestId, async user =>
        {
            if (user.IsBootstrapAdmin)
            {
                return Forbidden<Empty>("The bootstrap admin account cannot be deleted.");
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
        await PublishSecurityChangeAsync(tombstone, cancellationToken);
        await store.DeleteSessionsOfUserAsync(tombstone.Id, cancellationToken);
        LogDeleted(tombstone.Id, actorId);
        return Reply<Empty>.Ok(Empty.Instance);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted user {UserId} (by {ActorId})")]
    private partial void LogDeleted(string userId, string actorId);
}
