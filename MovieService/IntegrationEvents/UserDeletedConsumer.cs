using Microsoft.EntityFrameworkCore;
using MovieDb.Messaging.Events;
using MovieService.Infrastructure;
using UserService.Contracts;

namespace MovieService.IntegrationEvents;

/// <summary>
/// When an account is deleted, its movies go too. Idempotent: the event may come twice, and the
/// second time there is nothing left to delete.
/// </summary>
internal sealed partial class UserDeletedConsumer(MovieDbContext context, ILogger<UserDeletedConsumer> logger) : IEventConsumer<UserDeleted>
{
    public async Task HandleAsync(UserDeleted message, CancellationToken cancellationToken)
    {
        // One statement; the genres go with their movies (ON DELETE CASCADE).
        var deleted = await context.Movies.Where(m => m.OwnerId == message.UserId).ExecuteDeleteAsync(cancellationToken);
        LogDeleted(deleted, message.UserId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted {Count} movie(s) of deleted user {UserId}")]
    private partial void LogDeleted(int count, string userId);
}
