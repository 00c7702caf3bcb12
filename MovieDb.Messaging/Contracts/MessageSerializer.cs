using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace MovieDb.Messaging.Contracts;

/// <summary>JSON (camelCase, UTF-8) for every message body, with source-generated contracts.</summary>
public static class MessageSerializer
{
    /// <summary>The content type of every message body.</summary>
    public const string ContentType = "application/json";

    // An activation event's token is left as it is: a mail that was dead-lettered during a long
    // SMTP outage must still work when an operator moves it back to its queue.
    private static readonly HashSet<string> SecretProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "newPassword", "currentPassword", "refreshToken", "token",
    };

    /// <summary>The options used for every message.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(MessagingJsonContext.Default, new DefaultJsonTypeInfoResolver()),
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Serializes a message body.</summary>
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Deserializes a message body; throws <see cref="JsonException"/> when it is not a <typeparamref name="T"/>.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> body) =>
        JsonSerializer.Deserialize<T>(body, Options) ?? throw new JsonException($"The message body is null, not a {typeof(T).Name}.");

    /// <summary>
    /// Returns the body with every secret field (passwords, refresh and activation-command tokens) masked, for copies that
    /// outlive the request: dead-lettered messages. Bodies that are not JSON objects are returned unchanged.
    /// </summary>
    public static byte[] Redact(ReadOnlyMemory<byte> body)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body.Span);
        }
        catch (JsonException)
        {
            return body.ToArray();
        }

        if (node is not JsonObject root)
        {
            return body.ToArray();
        }

        var changed = Mask(root);
        return changed ? JsonSerializer.SerializeToUtf8Bytes(root) : body.ToArray();

        static bool Mask(JsonObject obj)
        {
            var changed = false;
            foreach (var property in obj.ToList())
            {
                if (SecretProperties.Contains(property.Key) && property.Value is not null)
                {
                    obj[property.Key] = "***";
                    changed = true;
                }
                else if (property.Value is JsonObject child)
                {
                    changed |= Mask(child);
                }
            }

            return changed;
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RegisterUser))]
[JsonSerializable(typeof(GetRegistrationStatus))]
[JsonSerializable(typeof(GetCommandStatus))]
[JsonSerializable(typeof(GetSecurityState))]
[JsonSerializable(typeof(RevokeAllSessions))]
[JsonSerializable(typeof(UserSecurityChanged))]
[JsonSerializable(typeof(Reply<SecurityState>))]
[JsonSerializable(typeof(AuthenticateUser))]
[JsonSerializable(typeof(GetUser))]
[JsonSerializable(typeof(ListUsers))]
[JsonSerializable(typeof(UpdateUser))]
[JsonSerializable(typeof(DeleteUser))]
[JsonSerializable(typeof(RefreshSession))]
[JsonSerializable(typeof(RevokeSession))]
[JsonSerializable(typeof(ActivateAccount))]
[JsonSerializable(typeof(SendActivation))]
[JsonSerializable(typeof(UserRegistered))]
[JsonSerializable(typeof(UserActivationRequested))]
[JsonSerializable(typeof(UserDeleted))]
[JsonSerializable(typeof(Reply<UserDto>))]
[JsonSerializable(typeof(Reply<CommandStatus>))]
[JsonSerializable(typeof(Reply<UserSession>))]
[JsonSerializable(typeof(Reply<UserPage>))]
[JsonSerializable(typeof(Reply<Empty>))]
internal sealed partial class MessagingJsonContext : JsonSerializerContext;
