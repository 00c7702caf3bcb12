using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Server;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Integration.Messaging;

/// <summary>A generic host wired to one test virtual host, playing the gateway's or the user service's part.</summary>
internal sealed class MessagingTestHost : IAsyncDisposable
{
    private MessagingTestHost(IHost host) => Host = host;

    public IHost Host { get; }

    public IServiceProvider Services => Host.Services;

    public static async Task<MessagingTestHost> StartAsync(
        string connectionString,
        Action<HostApplicationBuilder> configure,
        IDictionary<string, string?>? settings = null,
        string applicationName = "moviedb-tests",
        bool waitUntilReady = true)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = applicationName,
            EnvironmentName = Environments.Development,
            DisableDefaults = true,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = connectionString,
            ["Messaging:RetryDelay"] = "00:00:00.010",
            // Requests signed and checked as between the gateway and the user service.
            ["Messaging:SigningKey"] = EndToEnd.InProcessSystem.MessagingSigningKey,
            ["Messaging:EventSigningKey"] = EndToEnd.InProcessSystem.EventSigningKey,
            ["Aspire:RabbitMQ:Client:ConnectionFactory:NetworkRecoveryInterval"] = "00:00:01",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddRabbitMQClient("messaging");
        configure(builder);

        var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);
        var test = new MessagingTestHost(host);
        if (waitUntilReady)
        {
            await test.WaitUntilReadyAsync();
        }

        return test;
    }

    /// <summary>Waits until every client and consumer in the host has its channels up.</summary>
    public async Task WaitUntilReadyAsync()
    {
        if (Services.GetService<RequestClient>() is { } client)
        {
            await Wait.UntilAsync(() => client.IsReady, "the request client is ready");
        }

        if (Services.GetService<RequestHandlerHost>() is { } handlers)
        {
            await Wait.UntilAsync(() => handlers.IsConsuming, "the request handlers consume");
        }

        foreach (var subscriber in Services.GetServices<IHostedService>().OfType<MovieDb.Messaging.Events.EventSubscriberHost>())
        {
            await Wait.UntilAsync(() => subscriber.IsConsuming, $"the event subscriber {subscriber.Name} consumes");
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await Host.StopAsync(timeout.Token);
        Host.Dispose();
    }
}
