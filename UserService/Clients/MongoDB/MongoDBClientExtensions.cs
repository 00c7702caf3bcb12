using Microsoft.Extensions.Diagnostics.HealthChecks;
using MongoDB.Bson;
using MongoDB.Driver;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Settings of the MongoDB client registration, bound from <c>Aspire:MongoDB:Driver</c> and then
/// <c>Aspire:MongoDB:Driver:{connectionName}</c>, with the names and meaning of the Aspire integration's
/// <c>MongoDBSettings</c>. <c>ConnectionStrings:{connectionName}</c> wins over <see cref="ConnectionString"/>.
/// </summary>
public sealed class MongoDBSettings
{
    public string? ConnectionString { get; set; }

    public bool DisableHealthChecks { get; set; }

    /// <summary>Time-out of the health check's ping, in milliseconds.</summary>
    public int? HealthCheckTimeout { get; set; }

    public bool DisableTracing { get; set; }
}

/// <summary>
/// Registers a MongoDB client the way the Aspire client integration does: a stand-in for the
/// <c>Aspire.MongoDB.Driver</c> package, which does not restore on MovieDb's build machines. Same
/// method name, parameters, configuration sections and registrations (<see cref="IMongoClient"/>,
/// and <see cref="IMongoDatabase"/> when the connection string names a database; a
/// <c>MongoDB.Driver</c> health check), so switching to the package means deleting this file and
/// adding one package reference. Tracing uses the driver's built-in <c>MongoDB.Driver</c> source.
/// </summary>
public static class MongoDBClientExtensions
{
    private const string DefaultConfigSectionName = "Aspire:MongoDB:Driver";

    public static void AddMongoDBClient(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<MongoDBSettings>? configureSettings = null,
        Action<MongoClientSettings>? configureClientSettings = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionName);

        var settings = new MongoDBSettings();
        var section = builder.Configuration.GetSection(DefaultConfigSectionName);
        section.Bind(settings);
        section.GetSection(connectionName).Bind(settings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            settings.ConnectionString = connectionString;
        }

        configureSettings?.Invoke(settings);

        if (string.IsNullOrWhiteSpace(settings.ConnectionString))
        {
            throw new InvalidOperationException(
                $"MongoDB connection string is missing. Set 'ConnectionStrings:{connectionName}' (environment variable ConnectionStrings__{connectionName}).");
        }

        var url = MongoUrl.Create(settings.ConnectionString);

        builder.Services.AddSingleton<IMongoClient>(_ =>
        {
            var clientSettings = MongoClientSettings.FromUrl(url);
            if (settings.DisableTracing)
            {
                clientSettings.TracingOptions = new MongoDB.Driver.Core.Configuration.TracingOptions { Disabled = true };
            }

            configureClientSettings?.Invoke(clientSettings);
            return new MongoClient(clientSettings);
        });

        if (!string.IsNullOrEmpty(url.DatabaseName))
        {
            builder.Services.AddSingleton(sp => sp.GetRequiredService<IMongoClient>().GetDatabase(url.DatabaseName));
        }

        if (!settings.DisableHealthChecks)
        {
            var timeout = settings.HealthCheckTimeout is { } ms ? TimeSpan.FromMilliseconds(ms) : (TimeSpan?)null;
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                "MongoDB.Driver",
                sp => new MongoPingHealthCheck(sp.GetRequiredService<IMongoClient>(), url.DatabaseName ?? "admin"),
                failureStatus: null,
                tags: null,
                timeout: timeout));
        }

        if (!settings.DisableTracing)
        {
            builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource("MongoDB.Driver"));
        }
    }

    private sealed class MongoPingHealthCheck(IMongoClient client, string database) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await client.GetDatabase(database).RunCommandAsync<BsonDocument>(new BsonDocument("ping", 1), cancellationToken: cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception ex) when (ex is MongoException or TimeoutException)
            {
                return new HealthCheckResult(context.Registration.FailureStatus, "MongoDB does not answer.", ex);
            }
        }
    }
}
