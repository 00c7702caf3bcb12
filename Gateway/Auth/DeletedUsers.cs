using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Events;

namespace Gateway.Auth;

/// <summary>
/// Users deleted recently: their access tokens are still within their 15 minutes, so the gateway
/// refuses them by id until they would have expired anyway. Every gateway instance learns of each
/// deletion through its own subscription to the <c>user.deleted</c> broadcast (and at once for deletions it made).
/// </summary>
public sealed class DeletedUsers(IOptions<JwtOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _until = new(StringComparer.Ordinal);

    public void Add(string userId)
    {
        var now = time.GetUtcNow();
        _until[userId] = now + options.Value.AccessTokenLifetime + options.Value.ClockSkew;
        foreach (var (id, until) in _until)
        {
            if (until < now)
            {
                _until.TryRemove(id, out _);
            }
        }
    }

    public bool Contains(string userId) => _until.TryGetValue(userId, out var until) && until >= time.GetUtcNow();
}

internal sealed class UserDeletedListener(DeletedUsers deletedUsers) : IEventConsumer<UserDeleted>
{
    public Task HandleAsync(UserDeleted message, CancellationToken cancellationToken)
    {
        deletedUsers.Add(message.UserId);
        return Task.CompletedTask;
    }
}
