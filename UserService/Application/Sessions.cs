using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using UserService.Infrastructure;
using UserService.Model;

namespace UserService.Application;

/// <summary>
/// Refresh tokens: random 256-bit values, stored only as SHA-256 hashes, grouped in families (one per
/// sign-in), rotated on every use. Presenting a token that was already rotated means someone else
/// has a copy: the whole family is revoked (RFC 9700 §4.14.2).
/// </summary>
internal sealed partial class Sessions(IUserStore store, TimeProvider time, IOptions<RefreshTokenOptions> options, ILogger<Sessions> logger)
{
    private const int MaxTokenLength = 128;

    /// <summary>Starts a new family for <paramref name="user"/>.</summary>
    public Task<UserSession> OpenAsync(User user, CancellationToken cancellationToken) =>
        IssueAsync(user, Guid.NewGuid().ToString("N"), cancellationToken);

    /// <summary>Rotates <paramref name="rawToken"/>; null when it is not accepted (and its family is revoked on reuse).</summary>
    public async Task<UserSession?> RotateAsync(string? rawToken, CancellationToken cancellationToken)
    {
        if (Hash(rawToken) is not { } id || await store.FindRefreshTokenAsync(id, cancellationToken) is not { } token)
        {
            return null;
        }

        if (token.Status != RefreshTokenStatus.Active)
        {
            LogReuse(token.FamilyId, token.UserId, token.Status);
            await store.RevokeRefreshTokenFamilyAsync(token.FamilyId, cancellationToken);
            return null;
        }

        if (token.ExpiresAt <= time.GetUtcNow().UtcDateTime)
        {
            return null;
        }

        // Two requests with the same token at once: only one wins; the other is reuse.
        if (!await store.TryMarkRefreshTokenUsedAsync(id, cancellationToken))
        {
            LogReuse(token.FamilyId, token.UserId, "concurrent");
            await store.RevokeRefreshTokenFamilyAsync(token.FamilyId, cancellationToken);
            return null;
        }

        if (await store.FindByIdAsync(token.UserId, cancellationToken) is not { } user)
        {
            await store.RevokeRefreshTokenFamilyAsync(token.FamilyId, cancellationToken);
            return null;
        }

        return await IssueAsync(user, token.FamilyId, cancellationToken);
    }

    /// <summary>Revokes the family of <paramref name="rawToken"/>, if there is one.</summary>
    public async Task RevokeAsync(string? rawToken, CancellationToken cancellationToken)
    {
        if (Hash(rawToken) is { } id && await store.FindRefreshTokenAsync(id, cancellationToken) is { } token)
        {
            await store.RevokeRefreshTokenFamilyAsync(token.FamilyId, cancellationToken);
        }
    }

    private async Task<UserSession> IssueAsync(User user, string familyId, CancellationToken cancellationToken)
    {
        var raw = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow();
        var expires = now + options.Value.RefreshTokenLifetime;
        await store.InsertRefreshTokenAsync(new RefreshToken
        {
            Id = Hash(raw)!,
            FamilyId = familyId,
            UserId = user.Id,
            CreatedAt = now.UtcDateTime,
            ExpiresAt = expires.UtcDateTime,
            Status = RefreshTokenStatus.Active,
        }, cancellationToken);
        return new UserSession(user.ToDto(), raw, expires);
    }

    private static string? Hash(string? rawToken) =>
        string.IsNullOrEmpty(rawToken) || rawToken.Length > MaxTokenLength
            ? null
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(rawToken)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refresh token reuse in family {FamilyId} of user {UserId} (token was {Status}): the family is revoked")]
    private partial void LogReuse(string familyId, string userId, string status);
}
