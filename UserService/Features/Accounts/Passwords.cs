using Microsoft.AspNetCore.Identity;
using UserService.Model;

namespace UserService.Features.Accounts;

/// <summary>
/// PBKDF2 password hashing (ASP.NET Core's <see cref="PasswordHasher{TUser}"/>). Verifying against an
/// unknown user still costs one hash, so a failed sign-in takes the same time whether or not the
/// account exists.
/// </summary>
internal sealed class Passwords(IPasswordHasher<User> hasher)
{
    private static readonly User Nobody = new()
    {
        Id = "nobody",
        UserName = "nobody",
        NormalizedUserName = "NOBODY",
        Email = "nobody@invalid",
        NormalizedEmail = "NOBODY@INVALID",
        PasswordHash = string.Empty,
        RegistrationRequestId = "nobody",
    };

    private readonly Lazy<string> _decoyHash = new(() => hasher.HashPassword(Nobody, Guid.NewGuid().ToString()));

    public string Hash(User user, string password) => hasher.HashPassword(user, password);

    /// <summary>Checks a password; tells whether the stored hash should be upgraded.</summary>
    public (bool Valid, bool Rehash) Verify(User user, string password)
    {
        var result = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        return (result != PasswordVerificationResult.Failed, result == PasswordVerificationResult.SuccessRehashNeeded);
    }

    /// <summary>Spends the time of one verification, for a user that does not exist.</summary>
    public void VerifyDecoy(string password) => hasher.VerifyHashedPassword(Nobody, _decoyHash.Value, password);
}
