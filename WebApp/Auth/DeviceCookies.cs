using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;

namespace WebApp.Auth;

/// <summary>
/// The device tokens the gateway gives a browser that signed in (OWASP's "device cookies"), kept in a
/// cookie of their own (<c>moviedb.device</c>: HttpOnly, encrypted with the app's Data Protection keys,
/// 90 days) and sent back with the next sign-in — or password check — of the same account, so that
/// failed guesses by others never make this browser's person wait. A few accounts per browser.
/// </summary>
public sealed class DeviceCookies(IHttpContextAccessor accessor, IDataProtectionProvider protection, TimeProvider time)
{
    public const string CookieName = "moviedb.device";
    private const int MaxAccounts = 5;
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(90);

    private readonly IDataProtector _protector = protection.CreateProtector("MovieDb.WebApp.DeviceTokens.v1");

    /// <summary>This browser's device token for the account <paramref name="userName"/> names, or null.</summary>
    public string? Get(string userName) => Read().GetValueOrDefault(Normalize(userName));

    /// <summary>Keeps the token the gateway gave for <paramref name="userName"/> (the newest first; the oldest beyond a few go).</summary>
    public void Remember(string userName, string token)
    {
        var context = accessor.HttpContext;
        if (context is null || context.Response.HasStarted)
        {
            return;
        }

        var tokens = Read();
        tokens.Remove(Normalize(userName));
        var kept = new Dictionary<string, string>(StringComparer.Ordinal) { [Normalize(userName)] = token };
        foreach (var (account, value) in tokens.Take(MaxAccounts - 1))
        {
            kept[account] = value;
        }

        context.Response.Cookies.Append(CookieName, _protector.Protect(JsonSerializer.Serialize(kept)), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Lax,
            IsEssential = true,
            Path = "/",
            Expires = time.GetUtcNow() + Lifetime,
        });
    }

    private Dictionary<string, string> Read()
    {
        if (accessor.HttpContext?.Request.Cookies[CookieName] is not { Length: > 0 and < 4096 } cookie)
        {
            return new(StringComparer.Ordinal);
        }

        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(_protector.Unprotect(cookie)) ?? new(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or JsonException or FormatException)
        {
            // Made with keys that are gone, or not ours: the browser signs in as a new one.
            return new(StringComparer.Ordinal);
        }
    }

    private static string Normalize(string userName) => userName.Trim().ToUpperInvariant();
}
