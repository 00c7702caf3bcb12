using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;

namespace MovieDb.ServiceDefaults;

/// <summary>
/// HMAC-SHA256 keys from configuration: used as UTF-8 bytes, at least <see cref="MinimumBytes"/>
/// long. Required outside Development; where the caller allows it, a Development host without one
/// gets a random key, and a warning in its log (<see cref="DevelopmentSecrets"/>).
/// </summary>
public static class SigningKeys
{
    /// <summary>HS256 needs 256 bits.</summary>
    public const int MinimumBytes = 32;

    /// <summary>Reads the key at <paramref name="key"/>, or generates one in Development when allowed.</summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="key">The configuration key, e.g. <c>Jwt:SigningKey</c>.</param>
    /// <param name="purpose">What the key signs, for the messages.</param>
    /// <param name="generateInDevelopment">Whether Development may run without it.</param>
    public static byte[] Read(IHostApplicationBuilder builder, string key, string purpose, bool generateInDevelopment)
    {
        var value = DevelopmentSecrets.Read(
            builder,
            key,
            $"It signs {purpose}",
            $" to at least {MinimumBytes} random bytes of text (64 characters recommended; the AppHost passes a generated parameter)",
            generateInDevelopment ? () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(48)) : null,
            _ => $"{key} is not set (Development): using a key generated at start-up, so {purpose} stop working when this service restarts.");

        var bytes = Encoding.UTF8.GetBytes(value);
        return bytes.Length >= MinimumBytes
            ? bytes
            : throw new InvalidOperationException($"{key} is {bytes.Length * 8} bits; HS256 needs at least {MinimumBytes * 8}.");
    }
}
