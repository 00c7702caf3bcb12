using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace UserService.Features.Accounts;

/// <summary>
/// The tokens of mailed links (activation, a new address, a password reset): 256 random bits, of
/// which only the SHA-256 is stored, on the account document, so a database copy opens no link.
/// </summary>
internal static class LinkTokens
{
    /// <summary>A new raw token, as it goes into the link.</summary>
    public static string New() => WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));

    /// <summary>What is stored of <paramref name="token"/>, and what a presented token is looked up by.</summary>
    public static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>A stored time as the UTC instant the events carry.</summary>
    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value.ToUniversalTime(), DateTimeKind.Utc));
}
