using System.Text.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Aspire;

/// <summary>One span as the dashboard received it: the resource (service) that sent it, its kind (server, client, producer, consumer, internal), and whether its status is an error.</summary>
public sealed record TelemetrySpan(string TraceId, string Resource, string Name, string Kind, bool Error);

/// <summary>
/// The Aspire dashboard's telemetry API (<c>/api/telemetry/*</c>, authenticated with <c>x-api-key</c>):
/// what the dashboard received over OTLP, in OTLP's JSON shape.
/// </summary>
public sealed class DashboardTelemetry(Uri dashboard, string apiKey)
{
    private static readonly string[] Kinds = ["unspecified", "internal", "server", "client", "producer", "consumer"];

    /// <summary>Waits for a trace whose spans satisfy <paramref name="match"/>; fails describing the traces seen.</summary>
    public async Task<string> WaitForTraceAsync(string what, Func<IReadOnlyList<TelemetrySpan>, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var traces = (await GetSpansAsync()).GroupBy(s => s.TraceId).ToList();
            if (traces.FirstOrDefault(trace => match([.. trace])) is { } found)
            {
                return found.Key;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"No {what} reached the dashboard. The traces it has:\n" + string.Join('\n', traces.Where(t => t.Any(s => s.Resource is "gateway" or "userservice")).TakeLast(30).Select(trace =>
                    trace.Key + ": " + string.Join(", ", trace.Select(s => $"{s.Resource} {s.Kind} '{s.Name}'")))));
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }
    }

    public async Task<List<TelemetrySpan>> GetSpansAsync()
    {
        using var client = new HttpClient { BaseAddress = dashboard, Timeout = Wait.DefaultTimeout };
        client.DefaultRequestHeaders.Add("x-api-key", apiKey);
        using var document = JsonDocument.Parse(await client.GetStringAsync("/api/telemetry/spans?limit=10000", TestContext.Current.CancellationToken));
        var spans = new List<TelemetrySpan>();
        foreach (var resourceSpans in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var resource = ServiceName(resourceSpans.GetProperty("resource"));
            foreach (var scope in resourceSpans.GetProperty("scopeSpans").EnumerateArray())
            {
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                {
                    spans.Add(new TelemetrySpan(span.GetProperty("traceId").GetString()!, resource, span.GetProperty("name").GetString()!, Kind(span), IsError(span)));
                }
            }
        }

        return spans;
    }

    private static string ServiceName(JsonElement resource) =>
        resource.GetProperty("attributes").EnumerateArray()
            .Where(a => a.GetProperty("key").GetString() == "service.name")
            .Select(a => a.GetProperty("value").GetProperty("stringValue").GetString())
            .FirstOrDefault() ?? string.Empty;

    // OTLP's status code 2 is ERROR, as a number or as its name (STATUS_CODE_ERROR).
    private static bool IsError(JsonElement span) =>
        span.TryGetProperty("status", out var status) && status.TryGetProperty("code", out var code)
        && (code.ValueKind == JsonValueKind.Number ? code.GetInt32() == 2 : code.ToString().EndsWith("ERROR", StringComparison.OrdinalIgnoreCase));

    // OTLP's JSON gives the kind as its number (1–5) or as the enum's name (SPAN_KIND_SERVER).
    private static string Kind(JsonElement span) => span.TryGetProperty("kind", out var kind)
        ? kind.ValueKind == JsonValueKind.Number && kind.GetInt32() is var number && number >= 0 && number < Kinds.Length
            ? Kinds[number]
            : (kind.ToString() ?? string.Empty).Replace("SPAN_KIND_", string.Empty, StringComparison.OrdinalIgnoreCase).ToLowerInvariant()
        : "unspecified";
}
