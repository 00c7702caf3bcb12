using System.Collections.Concurrent;
using System.Diagnostics;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;
using MovieDb.Messaging.Server;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>What the scripted test handlers do and what they saw; one instance per test host.</summary>
internal sealed class HandlerScript
{
    /// <summary>How long each call takes.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Calls with these user ids throw this many times before succeeding (int.MaxValue: always).</summary>
    public ConcurrentDictionary<string, int> FailuresLeft { get; } = new();

    public ConcurrentDictionary<string, int> Calls { get; } = new();

    public ConcurrentQueue<(string UserId, ActivityTraceId TraceId, RequestContext Context)> Seen { get; } = new();

    public ConcurrentQueue<UserDeleted> Events { get; } = new();

    public int CallsFor(string userId) => Calls.TryGetValue(userId, out var calls) ? calls : 0;

    public async Task RunAsync(string userId, RequestContext context, CancellationToken cancellationToken)
    {
        Calls.AddOrUpdate(userId, 1, (_, calls) => calls + 1);
        Seen.Enqueue((userId, Activity.Current?.TraceId ?? default, context));
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, cancellationToken);
        }

        if (FailuresLeft.TryGetValue(userId, out var left) && left > 0)
        {
            FailuresLeft[userId] = left == int.MaxValue ? left : left - 1;
            throw new InvalidOperationException($"scripted failure for {userId}");
        }
    }
}

/// <summary>Answers <see cref="GetUser"/> with a user whose name is the id, after the script ran.</summary>
internal sealed class ScriptedGetUserHandler(HandlerScript script) : IRequestHandler<GetUser, UserDto>
{
    public async Task<Reply<UserDto>> HandleAsync(GetUser request, RequestContext context, CancellationToken cancellationToken)
    {
        await script.RunAsync(request.UserId, context, cancellationToken);
        return request.UserId == "missing"
            ? Reply<UserDto>.Fail(ReplyStatus.NotFound, "User not found")
            : Reply<UserDto>.Ok(new UserDto(request.UserId, "user-" + request.UserId, $"{request.UserId}@example.test", ["user"], DateTimeOffset.UnixEpoch));
    }
}

/// <summary>Answers the <see cref="DeleteUser"/> command (a command: it never expires) after the script ran.</summary>
internal sealed class ScriptedDeleteUserHandler(HandlerScript script) : IRequestHandler<DeleteUser, Empty>
{
    public async Task<Reply<Empty>> HandleAsync(DeleteUser request, RequestContext context, CancellationToken cancellationToken)
    {
        await script.RunAsync(request.UserId, context, cancellationToken);
        return Reply<Empty>.Ok(Empty.Instance);
    }
}

/// <summary>Records <see cref="UserDeleted"/> events, failing as scripted.</summary>
internal sealed class ScriptedUserDeletedConsumer(HandlerScript script) : IEventConsumer<UserDeleted>
{
    public async Task HandleAsync(UserDeleted message, CancellationToken cancellationToken)
    {
        await script.RunAsync(message.UserId, new RequestContext(message.UserId, 1, false), cancellationToken);
        script.Events.Enqueue(message);
    }
}

/// <summary>
/// Answers <see cref="GetSecurityState"/> as the user service would for an account with user rights
/// whose tokens carry no stamp: for a gateway tested without the user service.
/// </summary>
internal sealed class UserRightsSecurityStateHandler : IRequestHandler<GetSecurityState, SecurityState>
{
    public Task<Reply<SecurityState>> HandleAsync(GetSecurityState request, RequestContext context, CancellationToken cancellationToken) =>
        Task.FromResult(Reply<SecurityState>.Ok(new SecurityState(request.UserId, StampHash: string.Empty, ["user"], Version: 1)));
}
