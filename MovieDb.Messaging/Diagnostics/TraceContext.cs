using System.Diagnostics;
using System.Text;

namespace MovieDb.Messaging.Diagnostics;

/// <summary>W3C trace context (<c>traceparent</c>, <c>tracestate</c>) in AMQP message headers.</summary>
internal static class TraceContext
{
    /// <summary>Writes the context of <paramref name="activity"/> (or the current one) into <paramref name="headers"/>.</summary>
    public static void Inject(Activity? activity, IDictionary<string, object?> headers)
    {
        activity ??= Activity.Current;
        if (activity is null)
        {
            return;
        }

        DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, key, value) =>
        {
            if (carrier is IDictionary<string, object?> dictionary)
            {
                dictionary[key] = value;
            }
        });
    }

    /// <summary>Reads the sender's context from <paramref name="headers"/>; string headers arrive as UTF-8 bytes.</summary>
    public static ActivityContext Extract(IDictionary<string, object?>? headers)
    {
        if (headers is null)
        {
            return default;
        }

        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (object? carrier, string key, out string? value, out IEnumerable<string>? values) =>
        {
            values = null;
            value = carrier is IDictionary<string, object?> dictionary && dictionary.TryGetValue(key, out var raw)
                ? raw switch
                {
                    byte[] bytes => Encoding.UTF8.GetString(bytes),
                    string text => text,
                    _ => null,
                }
                : null;
        }, out var traceParent, out var traceState);

        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }
}
