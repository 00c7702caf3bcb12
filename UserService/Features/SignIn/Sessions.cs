using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using UserService.Contracts;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.SignIn;

/// <summary>
/// Refresh tokens: random 256-bit values, stored only as SHA-256 hashes, grouped in families (one per
/// sign-in), rotated on every use. Presenting a token that was already rotated means someone else
/// has a copy: the whole family is revoked (RFC 9700 §4.14.2).
/// </summary>
/// <remarks>
/// Whether a token is honoured is decided when it is presented, from three documents: the token must
/// be active, its family active, and the family opened under the account's current security stamp.
/// A revocation (sign-out, reuse) is one write to the family; a password or role change is one write
/// of a new stamp to the account. So a successor token inserted by a rotation that raced either of
/// them is born dead: nothing can be interleaved to keep a session alive after it was ended.
/// </remarks>
internal sealed partial class Sessions(IUserStore store, TimeProvider time, IOptions<RefreshTokenOptions> options, ILogger<Sessions> logger)
{
    private const int MaxTokenLength = 128;

    /// <summary>Starts a new family for <paramref name="user"/>, under its current stamp.</summary>
    public async Task<UserSession> OpenAsync(User user, CancellationToken cancellationToken)
    {
        var family = new SessionFamily
        {
            Id = Guid.NewGuid().ToString("N"),
            UserId = user.Id,
            SecurityStamp = user.CurrentStamp,
            Status = SessionFamilyStatus.Active,
            CreatedAt = time.GetUtcNow().UtcDateTime,
            ExpiresAt = (time.GetUtcNow() + options.Value.RefreshTokenLifetime).UtcDateTime,
        };
        await store.InsertSessionFamilyAsync(family, cancellationToken);
        return await IssueAsync(user, family, cancellationToken);
    }

    /// <summary>Rotates <paramref name="rawToken"/>; null when it is not accepted (and its family is revoked on reuse).</summary>
    public async Task<UserSession?> RotateAsync(string? rawToken, CancellationToken cancellationToken)
    {
        if (Hash(rawToken) is not { } id
            || await store.FindRefreshTokenAsync(id, cancellationToken) is not { } token
            || await store.FindSessionFamilyAsync(token.FamilyId, cancellationToken) is not { Status: SessionFamilyStatus.Active } family)
        {
            return null;
        }

        if (token.Status != RefreshTokenStatus.Active)
        {
            LogReuse(token.FamilyId, token.UserId, token.Status);
            await store.RevokeSessionFamilyAsync(family.Id, cancellationToken);
            return null;
        }

        if (token.ExpiresAt <= time.GetUtcNow().UtcDateTime
            || await store.FindByIdAsync(token.UserId, cancellationToken) is not { } user
            || user.CurrentStamp != family.SecurityStamp)
        {
            return null;
        }

        // Two requests with the same token at once: only one wins; the other is reuse.
        if (!await store.TryMarkRefreshTokenUsedAsync(id, cancellationToken))
        {
            LogReuse(token.FamilyId, token.UserId, "concurrent");
            await store.RevokeSessionFamilyAsync(family.Id, cancellationToken);
            return null;
        }

        var session = await IssueAsync(user, family, cancellationToken);

        // The successor is dead if the session was ended meanwhile; say so now rather than at its first use.
        return await IsAliveAsync(family.Id, user.Id, family.SecurityStamp, cancellationToken) ? session : null;
    }

    /// <summary>Revokes the family of <paramref name="rawToken"/>, if there is one and it belongs to <paramref name="userId"/>.</summary>
    public async Task RevokeAsync(string? rawToken, string userId, CancellationToken cancellationToken)
    {
        if (Hash(rawToken) is { } id && await store.FindRefreshTokenAsync(id, cancellationToken) is { } token && token.UserId == userId)
        {
            await store.RevokeSessionFamilyAsync(token.FamilyId, cancellationToken);
        }
    }

    private async Task<bool> IsAliveAsync(string familyId, string userId, string stamp, CancellationToken cancellationToken) =>
        await store.FindSessionFamilyAsync(familyId, cancellationToken) is { Status: SessionFamilyStatus.Active }
        && await store.FindByIdAsync(userId, cancellationToken) is { } user
        && user.CurrentStamp == stamp;

    private async Task<UserSession> IssueAsync(User user, SessionFamily family, CancellationToken cancellationToken)
    {
        var raw = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var expires = now + options.Value.RefreshTokenLifetime;
        await store.InsertRefreshTokenAsync(new RefreshToken
        {
            Id = Hash(raw)!,
            FamilyId = family.Id,
            UserId = user.Id,
            CreatedAt = now.UtcDateTime,
            ExpiresAt = expires.UtcDateTime,
            Status = RefreshTokenStatus.Active,
        }, cancellationToken);
        await store.ExtendSessionFamilyAsync(family.Id, expires.UtcDateTime, cancellationToken);
        return new UserSession(user.ToDto(), raw, expires, user.ToSecurityState());
    }

    private static string? Hash(string? rawToken) =>
        string.IsNullOrEmpty(rawToken) || rawToken.Length > MaxTokenLength
            ? null
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(rawToken)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refresh token reuse in family {FamilyId} of user {UserId} (token was {Status}): the family is revoked")]
    private partial void LogReuse(string familyId, string userId, string status);
}
