using UserService.Contracts;
using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>
/// Brings an account stored before skeletons, security stamps and the admin history existed up to
/// date, the same way on every store: its own skeleton (marked with its id when another old name
/// already has it), a fresh stamp (tokens and sessions from before end: sign in again), and
/// <see cref="User.HasBeenAdmin"/> for an account that is an admin now.
/// </summary>
internal static class UserMigration
{
    public static void Upgrade(User user, Func<string, bool> skeletonTaken)
    {
        if (user.UserNameSkeleton is null)
        {
            var skeleton = UserRules.Skeleton(user.UserName);
            user.UserNameSkeleton = skeletonTaken(skeleton) ? $"{skeleton}#{user.Id}" : skeleton;
        }

        user.SecurityStamp ??= User.NewStamp();
        user.HasBeenAdmin |= user.IsAdmin;
    }
}
