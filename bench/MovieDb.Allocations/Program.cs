// Usage: dotnet bench/MovieDb.Allocations/bin/Release/net10.0/MovieDb.Allocations.dll TRACE.nettrace [--stacks N] [--depth N] [--within NAME ...]
//   TRACE: dotnet-trace collect -p PID --profile gc-verbose --duration 00:00:00:05 -o TRACE.nettrace
//   --within NAME: the share of the bytes allocated with a frame whose name contains NAME on the stack
// Divide the bytes by the requests served during the trace for bytes per request.
using System.Globalization;
using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

if (args.Length == 0 || args[0].StartsWith('-'))
{
    Console.Error.WriteLine("usage: MovieDb.Allocations TRACE.nettrace [--stacks N] [--depth N] [--within NAME ...]");
    return 2;
}

var stackCount = Option("--stacks", 10);
var depth = Option("--depth", 6);
var within = args.SkipWhile(a => a != "--within").Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();

using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>(StringComparer.Ordinal);
var byStack = new Dictionary<string, long>(StringComparer.Ordinal);
var byWithin = new long[within.Length];
long total = 0;
foreach (var data in log.Events)
{
    if (data is not GCAllocationTickTraceData tick)
    {
        continue;
    }

    var bytes = tick.AllocationAmount64;
    total += bytes;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + bytes;

    var frames = new List<string>();
    for (var frame = data.CallStack(); frame is not null; frame = frame.Caller)
    {
        if (frame.CodeAddress.FullMethodName is { Length: > 0 } name)
        {
            frames.Add(name);
        }
    }

    for (var i = 0; i < within.Length; i++)
    {
        if (frames.Exists(f => f.Contains(within[i], StringComparison.Ordinal)))
        {
            byWithin[i] += bytes;
        }
    }

    var key = tick.TypeName + string.Concat(frames.Take(depth).Select(f => "\n      " + (f.Length > 140 ? f[..140] : f)));
    byStack[key] = byStack.GetValueOrDefault(key) + bytes;
}

if (total == 0)
{
    Console.Error.WriteLine("No allocation ticks in the trace: collect it with --profile gc-verbose.");
    return 1;
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"allocated (sampled): {total / 1e6:F1} MB"));
Console.WriteLine("\nby type");
foreach (var (type, bytes) in byType.OrderByDescending(p => p.Value).Take(25))
{
    Console.WriteLine(Share(bytes) + type);
}

if (within.Length > 0)
{
    Console.WriteLine("\nallocated with this frame on the stack");
    for (var i = 0; i < within.Length; i++)
    {
        Console.WriteLine(Share(byWithin[i]) + within[i]);
    }
}

Console.WriteLine("\nby type and stack");
foreach (var (stack, bytes) in byStack.OrderByDescending(p => p.Value).Take(stackCount))
{
    Console.WriteLine(Share(bytes) + stack);
}

return 0;

string Share(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{100.0 * bytes / total,5:F1}%  ");

int Option(string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
}
