using System.Security.Cryptography;
using System.Text.Json;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Features.Accounts;

/// <summary>
/// Makes commands idempotent by request id: the first reply is recorded, and a redelivery (after a
/// crash) or a repeat (a client retrying with the same Idempotency-Key) gets that reply back without
/// running the command again. The same id with a different command is refused.
/// </summary>
internal sealed class CommandInbox(IUserStore store, TimeProvider time)
{
    /// <summary>What a request id may be: the gateway's GUIDs and clients' Idempotency-Keys are shorter.</summary>
    public const int MaxRequestIdLength = 128;

    /// <summary>
    /// Returns the recorded reply of <paramref name="requestId"/>, or runs <paramref name="execute"/>
    /// and records its reply (unless it says the command could not be processed), with the account
    /// of <paramref name="actor"/> as the one that may read its outcome later.
    /// </summary>
    public async Task<Reply<T>> RunOnceAsync<TCommand, T>(string requestId, TCommand command, Actor? actor, Func<Task<Reply<T>>> execute, CancellationToken cancellationToken)
        where TCommand : IRequest<T>
    {
        var type = MessageMetadata.Of<TCommand>().Type;
        var fingerprint = Fingerprint(command);

        if (await store.FindProcessedCommandAsync(requestId, cancellationToken) is { } processed)
        {
            return processed.Fingerprint == fingerprint && processed.Type == type
                ? ReadReply<T>(processed)
                : Reply<T>.Fail(ReplyStatus.Conflict, "Request id reused", "This request id (Idempotency-Key) was already used for a different request.");
        }

        var reply = await execute();
        await RecordAsync(requestId, type, fingerprint, actor?.UserId, reply, cancellationToken);
        return reply;
    }

    private async Task RecordAsync<T>(string requestId, string type, string fingerprint, string? actorId, Reply<T> reply, CancellationToken cancellationToken)
    {
        if (reply.Status == ReplyStatus.Failed)
        {
            return;
        }

        await store.SaveProcessedCommandAsync(new ProcessedCommand
        {
            Id = requestId,
            Type = type,
            Fingerprint = fingerprint,
            Reply = JsonSerializer.Serialize(reply, MessageSerializer.Options),
            ActorId = actorId,
            At = time.GetUtcNow().UtcDateTime,
        }, cancellationToken);
    }

    /// <summary>The recorded reply of command <typeparamref name="TCommand"/> with this request id, if it was answered.</summary>
    public async Task<Reply<T>?> FindReplyAsync<TCommand, T>(string requestId, CancellationToken cancellationToken)
        where TCommand : IRequest<T> =>
        await store.FindProcessedCommandAsync(requestId, cancellationToken) is { } processed && processed.Type == MessageMetadata.Of<TCommand>().Type
            ? ReadReply<T>(processed)
            : null;

    /// <summary>
    /// The outcome of a command sent by <paramref name="actorId"/>, or null when there is none to tell
    /// (not processed yet, unknown, or sent by another account).
    /// </summary>
    public async Task<CommandStatus?> FindStatusAsync(string requestId, string actorId, CancellationToken cancellationToken)
    {
        if (await store.FindProcessedCommandAsync(requestId, cancellationToken) is not { } processed || processed.ActorId != actorId)
        {
            return null;
        }

        var reply = ReadReply<JsonElement>(processed);
        if (!reply.IsOk)
        {
            return new CommandStatus(CommandStatus.Failed, Problem: reply.Error, FailureStatus: reply.Status);
        }

        // Commands that answer with the account (updates) report it; the others answer with nothing.
        var user = processed.Type == MessageMetadata.Of<UpdateUser>().Type ? reply.Value.Deserialize<UserDto>(MessageSerializer.Options) : null;
        return new CommandStatus(CommandStatus.Succeeded, user);
    }

    private static Reply<T> ReadReply<T>(ProcessedCommand processed) =>
        MessageSerializer.Deserialize<Reply<T>>(System.Text.Encoding.UTF8.GetBytes(processed.Reply));

    // Secrets are masked first: a fast hash of a password would be a weak password hash.
    private static string Fingerprint<TCommand>(TCommand command) =>
        Convert.ToHexString(SHA256.HashData(MessageSerializer.SerializeMasked(command)));
}
