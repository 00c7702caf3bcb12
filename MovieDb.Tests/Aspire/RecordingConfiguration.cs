using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;

[assembly: HostingStartup(typeof(MovieDb.Tests.Aspire.RecordingConfiguration.Startup))]

namespace MovieDb.Tests.Aspire;

/// <summary>
/// A configuration source that remembers which of its keys were read: given to a service, it tells
/// which keys the service's own configuration code actually asked for.
/// </summary>
/// <remarks>
/// It reaches the service as a hosting startup (<see cref="Use"/>), because that is the one way to add a
/// configuration source that Program.cs reads from while it builds: WebApplicationFactory hands its own
/// settings over as command-line arguments, copied once.
/// </remarks>
public sealed class RecordingConfiguration(IReadOnlyDictionary<string, string> values) : IConfigurationSource
{
    // The hosting startup cannot see settings of the host it configures, only the process-wide
    // state: one recording at a time (the tests that use this run one after the other).
    private static readonly AsyncLocal<RecordingConfiguration?> Active = new();

    private readonly IReadOnlyDictionary<string, string> _values = values;
    private readonly ConcurrentDictionary<string, byte> _read = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The keys that were read, in configuration form (<c>ConnectionStrings:moviedb</c>).</summary>
    public IReadOnlyCollection<string> ReadKeys => _read.Keys.ToArray();

    /// <summary>Makes the service built by <paramref name="builder"/> read its configuration from this source.</summary>
    public void Use(IWebHostBuilder builder)
    {
        Active.Value = this;
        builder.UseSetting(WebHostDefaults.HostingStartupAssembliesKey, typeof(RecordingConfiguration).Assembly.GetName().Name);
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(this);

    private sealed class Provider(RecordingConfiguration source) : ConfigurationProvider
    {
        public override void Load() =>
            Data = source._values.ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.OrdinalIgnoreCase);

        public override bool TryGet(string key, out string? value)
        {
            var found = base.TryGet(key, out value);
            if (found)
            {
                source._read.TryAdd(key, 0);
            }

            return found;
        }
    }

    /// <summary>Adds the recording source to a service whose host names it (see <see cref="Use"/>).</summary>
    public sealed class Startup : IHostingStartup
    {
        public void Configure(IWebHostBuilder builder)
        {
            if (Active.Value is { } recording)
            {
                builder.ConfigureAppConfiguration(config => config.Add(recording));
            }
        }
    }
}
