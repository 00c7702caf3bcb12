using MovieDb.Messaging;

namespace UserService.Contracts;

/// <summary>Where the user service takes its requests: give these to <c>AddRequestClient</c> to talk to it.</summary>
public static class UserServiceQueues
{
    /// <summary>
    /// <c>users.requests</c> (commands: registrations, updates, deletions, sign-outs), <c>users.queries</c>
    /// (queries: reads, sign-in, token refresh) and <c>users.requests.dead</c>.
    /// </summary>
    public static RequestQueues Requests { get; } = new(Commands: "users.requests", Queries: "users.queries", DeadLetters: "users.requests.dead");
}
