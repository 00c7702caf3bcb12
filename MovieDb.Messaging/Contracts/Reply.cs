using System.Text.Json;
using System.Text.Json.Serialization;

namespace MovieDb.Messaging.Contracts;

/// <summary>How a request ended, as the handler saw it. A caller that answers over HTTP maps it to a status.</summary>
[JsonConverter(typeof(CamelCaseEnumConverter<ReplyStatus>))]
public enum ReplyStatus
{
    /// <summary>Done; the reply carries the value.</summary>
    Ok,

    /// <summary>The request was invalid (400); <see cref="ReplyError.Errors"/> names the fields.</summary>
    Invalid,

    /// <summary>What the request names does not exist (404).</summary>
    NotFound,

    /// <summary>The request clashes with existing state, e.g. a taken user name (409).</summary>
    Conflict,

    /// <summary>Credentials or token not accepted (401).</summary>
    Unauthorized,

    /// <summary>The caller may not do this (403).</summary>
    Forbidden,

    /// <summary>The request could not be processed and was dead-lettered (502 over HTTP).</summary>
    Failed,
}

/// <summary>What went wrong, in the shape of RFC 9457 problem details.</summary>
/// <param name="Title">A short, stable summary.</param>
/// <param name="Detail">An explanation for this occurrence.</param>
/// <param name="Errors">Per-field validation messages.</param>
public sealed record ReplyError(string Title, string? Detail = null, IReadOnlyDictionary<string, string[]>? Errors = null);

/// <summary>The reply to a request: a status and either a value or an error.</summary>
/// <typeparam name="T">The value type of successful replies.</typeparam>
/// <param name="Status">How the request ended.</param>
/// <param name="Value">The value when <see cref="Status"/> is <see cref="ReplyStatus.Ok"/>.</param>
/// <param name="Error">The error otherwise.</param>
public sealed record Reply<T>(ReplyStatus Status, T? Value = default, ReplyError? Error = null)
{
    /// <summary>True when the request succeeded.</summary>
    [JsonIgnore]
    public bool IsOk => Status == ReplyStatus.Ok;

#pragma warning disable CA1000 // Static factories on a generic reply read best at the call site.
    /// <summary>A successful reply.</summary>
    public static Reply<T> Ok(T value) => new(ReplyStatus.Ok, value);

    /// <summary>A failed reply.</summary>
    public static Reply<T> Fail(ReplyStatus status, string title, string? detail = null, IReadOnlyDictionary<string, string[]>? errors = null) =>
        new(status, default, new ReplyError(title, detail, errors));

    /// <summary>A failed reply that carries an existing error.</summary>
    public static Reply<T> Fail(ReplyStatus status, ReplyError error) => new(status, default, error);
#pragma warning restore CA1000
}

/// <summary>Writes enum values as camelCase strings (<c>"notFound"</c>), like every other name on the wire.</summary>
/// <typeparam name="TEnum">The enum.</typeparam>
public sealed class CamelCaseEnumConverter<TEnum>() : JsonStringEnumConverter<TEnum>(JsonNamingPolicy.CamelCase, allowIntegerValues: false)
    where TEnum : struct, Enum;
