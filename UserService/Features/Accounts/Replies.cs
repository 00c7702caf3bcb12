using MovieDb.Messaging.Contracts;

namespace UserService.Features.Accounts;

/// <summary>The refusals every account feature gives in the same words.</summary>
internal static class Replies
{
    public const string TakenTitle = "Already registered";

    public static Reply<T> NotFound<T>() => Reply<T>.Fail(ReplyStatus.NotFound, "User not found");

    public static Reply<T> Forbidden<T>(string detail) => Reply<T>.Fail(ReplyStatus.Forbidden, "Forbidden", detail);
}
