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
    private bool _onLoopback;

    /// <summary>
    /// Starts the service on Kestrel at a free port of 127.0.0.1, for callers outside the process
    /// (a browser, another service). The port is given as the <c>urls</c> setting rather than with
    /// <c>UseKestrel(0)</c>, which sets it on the server after the host is built and fails at random
    /// when the application's own <c>Run</c> has already started the server.
    /// </summary>
    public void StartOnLoopback()
    {
        _onLoopback = true;
        UseKestrel();
        StartServer();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(environment);
        if (_onLoopback)
        {
            builder.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
        }

        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (configureServices is not null)
        {
            builder.ConfigureTestServices(configureServices);
        }

        builder.ConfigureLogging(logging =>
        {
            logging.SetMinimumLevel(LogLevel.Warning);
            if (ServiceErrorLog.ForService(typeof(TApp).Name) is { } errors)
            {
                logging.AddProvider(errors);
            }
        });
    }
}
