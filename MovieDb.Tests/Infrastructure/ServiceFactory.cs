using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// Hosts one MovieDb service in the test process with the given configuration, in the Production
/// environment by default, so that tests see what a deployment does. Settings go in with
/// <c>UseSetting</c>, so they are visible to <c>Program.cs</c> while it builds (the services read
/// connection strings before <c>Build()</c>).
/// </summary>
/// <remarks><paramref name="configureServices"/> runs after the service's own registrations, e.g. to replace its clock.</remarks>
public class ServiceFactory<TApp>(IDictionary<string, string?> settings, string environment = "Production", Action<IServiceCollection>? configureServices = null) : WebApplicationFactory<TApp>
    where TApp : class
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }

        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}
