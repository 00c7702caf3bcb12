using System.Security.Cryptography;
using System.Text;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// HMAC-SHA256 keys from configuration: used as UTF-8 bytes, at least <see cref="MinimumBytes"/>
/// long. Required outside Development; where the caller allows it, a
/// Development host without one gets a random key (and a warning in its log).
/// </summary>
public static class SigningKeys
{
    /// <summary>HS256 needs 256 bits.</summary>
    public const int MinimumBytes = 32;

    /// <summary>Reads the key at <paramref name="key"/>; null means "generate one" (Development only).</summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="key">The configuration key, e.g. <c>Jwt:SigningKey</c>.</param>
    /// <param name="purpose">What the key signs, for the error message.</param>
    /// <param name="generateInDevelopment">Whether Development may run without it.</param>
    public static byte[]? Read(IHostApplicationBuilder builder, string key, string purpose, bool generateInDevelopment)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var configured = builder.Configuration[key];
        var variable = key.Replace(":", "__", StringComparison.Ordinal);
        if (string.IsNullOrEmpty(configured))
        {
            if (generateInDevelopment && builder.Environment.IsDevelopment())
            {
                return null;
            }

            throw new InvalidOperationException(
                $"{key} is not set. It signs {purpose} and is required{(generateInDevelopment ? " outside Development" : string.Empty)}: " +
                $"set the environment variable {variable} to at least {MinimumBytes} random bytes of text (64 characters recommended; the AppHost passes a generated parameter).");
        }

        var bytes = Encoding.UTF8.GetBytes(configured);
        return bytes.Length >= MinimumBytes
            ? bytes
            : throw new InvalidOperationException($"{key} is {bytes.Length * 8} bits; HS256 needs at least {MinimumBytes * 8}.");
    }

    /// <summary>A random key for a Development host that has none.</summary>
    public static byte[] Generate() => RandomNumberGenerator.GetBytes(64);
}
