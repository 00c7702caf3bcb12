using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MovieService.Apis;
using MovieService.IntegrationEvents;
using MovieService.Identity;
using MovieService.Infrastructure;
using MovieService.Settings;
using UserService.Contracts;

namespace MovieService.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddMovieDatabase("moviedb");

        builder.AddGatewayIdentity();

        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOpenApi(MoviesOpenApi.Configure);

        // Movies can be served while the broker is away: only the user.deleted consumer waits for it.
        builder.AddRabbitMQClient("messaging");
        // Only the user service's word deletes an account's movies: events it did not sign are dead-lettered.
        SigningKeys.Read(builder, "Messaging:EventSigningKey", "the user service's events (it must hold the same key)", generateInDevelopment: false);
        builder.AddEventSubscription("movieservice.events").On<UserDeleted, UserDeletedConsumer>();
        builder.Services.SetHealthCheckFailureStatus(HealthStatus.Degraded, MessagingHostingExtensions.RabbitMQHealthCheckName, "messaging-events-movieservice.events");
    }

    /// <summary>
    /// EF Core on MySQL/MariaDB (Pomelo) with connection resiliency, migrations applied at start-up,
    /// and readiness checks for "reachable" and "migrated".
    /// </summary>
    private static void AddMovieDatabase(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetRequiredConnectionString(connectionName);
        var settings = builder.Configuration.GetSection(DatabaseSettings.SectionName).Get<DatabaseSettings>() ?? new DatabaseSettings();
        var serverVersion = new ServerVersionSource(connectionString, settings.ServerVersion);

        builder.Services.AddDbContextPool<MovieDbContext>(options => options.UseMySql(
            connectionString,
            serverVersion.Get(),
            mysql => mysql.ExecutionStrategy(dependencies => new StreamingRetryingExecutionStrategy(dependencies, settings.MaxRetryCount, settings.MaxRetryDelay))));

        builder.Services.AddExceptionHandler<DatabaseUnavailableHandler>();
        builder.AddStartupTask<DatabaseMigrator>($"{connectionName}-migrations", maxRetryDelay: TimeSpan.FromSeconds(10));
        builder.Services.AddHealthChecks().AddDbContextCheck<MovieDbContext>(connectionName);

        builder.Services.AddOpenTelemetry().WithTracing(tracing => tracing.AddSource("MySqlConnector"));
    }
}
