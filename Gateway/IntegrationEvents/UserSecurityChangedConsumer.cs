using Gateway.Auth;
using MovieDb.Messaging.Events;
using UserService.Contracts;

namespace Gateway.IntegrationEvents;

/// <summary>
/// Applies <c>user.security-changed</c> broadcasts to this instance's <see cref="UserSecurityCache"/>
/// (a per-instance subscription: every gateway instance hears every change).
/// </summary>
internal sealed class UserSecurityChangedConsumer(UserSecurityCache cache) : IEventConsumer<UserSecurityChanged>
{
    public Task HandleAsync(UserSecurityChanged message, CancellationToken cancellationToken)
    {
        cache.Apply(message);
        return Task.CompletedTask;
    }
}
