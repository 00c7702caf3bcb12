using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using MovieDb.Messaging.Contracts;

[assembly: MessageContracts(typeof(MessagingJsonContext))]

namespace MovieDb.Messaging.Contracts;

/// <summary>
/// JSON (camelCase, UTF-8) for every message body. A contract assembly that names its source-generated
/// context with <see cref="MessageContractsAttribute"/> is read and written with it; anything else by reflection.
/// </summary>
public static class MessageSerializer
{
    /// <summary>The content type of every message body.</summary>
    public const string ContentType = "application/json";

    private const string Mask = "***";

    private static readonly ConcurrentDictionary<Assembly, IReadOnlySet<string>> SecretsByAssembly = new();

    /// <summary>The options used for every message.</summary>
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = JsonTypeInfoResolver.Combine(new ContractAssemblyResolver(), new DefaultJsonTypeInfoResolver()),
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Serializes a message body.</summary>
    public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

    /// <summary>Deserializes a message body; throws <see cref="JsonException"/> when it is not a <typeparamref name="T"/>.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> body) =>
        JsonSerializer.Deserialize<T>(body, Options) ?? throw new JsonException($"The message body is null, not a {typeof(T).Name}.");

    /// <summary>
    /// Serializes <paramref name="value"/> with its <see cref="SecretAttribute">secrets</see> masked, for
    /// what must not keep them (a fingerprint of a command, say).
    /// </summary>
    public static byte[] SerializeMasked<T>(T value) => Redact(Serialize(value), SecretFields([typeof(T)]));

    /// <summary>
    /// The JSON names of the <see cref="SecretAttribute">secret</see> properties of every contract in the
    /// assemblies of <paramref name="contracts"/>: what <see cref="Redact"/> masks in messages of those
    /// assemblies, whatever their type (a body that cannot be parsed as its type is masked too).
    /// </summary>
    public static IReadOnlySet<string> SecretFields(IEnumerable<Type> contracts)
    {
        ArgumentNullException.ThrowIfNull(contracts);
        var fields = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var assembly in contracts.Select(c => c.Assembly).Distinct())
        {
            fields.UnionWith(SecretsByAssembly.GetOrAdd(assembly, FindSecrets));
        }

        return fields;
    }

    /// <summary>
    /// Returns the body with every field named in <paramref name="secretFields"/> masked, at any depth,
    /// for copies that outlive the request: dead-lettered messages. Bodies that are not JSON objects
    /// are returned unchanged.
    /// </summary>
    public static byte[] Redact(ReadOnlyMemory<byte> body, IReadOnlySet<string> secretFields)
    {
        ArgumentNullException.ThrowIfNull(secretFields);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body.Span);
        }
        catch (JsonException)
        {
            return body.ToArray();
        }

        return node is JsonObject root && MaskIn(root, secretFields) ? JsonSerializer.SerializeToUtf8Bytes(root) : body.ToArray();
    }

    private static bool MaskIn(JsonObject obj, IReadOnlySet<string> secretFields)
    {
        var changed = false;
        foreach (var property in obj.ToList())
        {
            if (secretFields.Contains(property.Key) && property.Value is not null)
            {
                obj[property.Key] = Mask;
                changed = true;
            }
            else if (property.Value is JsonObject child)
            {
                changed |= MaskIn(child, secretFields);
            }
        }

        return changed;
    }

    private static HashSet<string> FindSecrets(Assembly assembly) =>
        assembly.GetTypes()
            .SelectMany(type => type.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(property => property.IsDefined(typeof(SecretAttribute)))
            .Select(property => property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Finds the generated metadata of a type in the <see cref="MessageContractsAttribute"/> context of
    /// its assembly, or of the assembly of one of its type arguments (the metadata of a reply
    /// carrying a contract's value is generated beside that contract).
    /// </summary>
    private sealed class ContractAssemblyResolver : IJsonTypeInfoResolver
    {
        private readonly ConcurrentDictionary<Assembly, IJsonTypeInfoResolver?> _contexts = new();

        public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
        {
            foreach (var assembly in AssembliesOf(type).Distinct())
            {
                if (_contexts.GetOrAdd(assembly, ContextOf)?.GetTypeInfo(type, options) is { } info)
                {
                    return info;
                }
            }

            return null;
        }

        private static IEnumerable<Assembly> AssembliesOf(Type type) =>
            type.IsGenericType
                ? type.GetGenericArguments().SelectMany(AssembliesOf).Prepend(type.Assembly)
                : [type.Assembly];

        private static IJsonTypeInfoResolver? ContextOf(Assembly assembly) =>
            assembly.GetCustomAttribute<MessageContractsAttribute>()?.SerializerContext
                .GetProperty("Default", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as IJsonTypeInfoResolver;
    }
}

/// <summary>
/// Names the source-generated <see cref="JsonSerializerContext"/> that holds the metadata of an
/// assembly's message contracts (and of the replies that carry them), for <see cref="MessageSerializer"/>.
/// </summary>
/// <param name="serializerContext">The context type; it has the generated static <c>Default</c> property.</param>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class MessageContractsAttribute(Type serializerContext) : Attribute
{
    /// <summary>The context type.</summary>
    public Type SerializerContext { get; } = serializerContext;
}

/// <summary>
/// A property whose value no copy of its message keeps: it is masked in dead letters and in
/// fingerprints (passwords, refresh tokens). Put it on the property: <c>[property: Secret]</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SecretAttribute : Attribute;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Reply<Empty>))]
internal sealed partial class MessagingJsonContext : JsonSerializerContext;
