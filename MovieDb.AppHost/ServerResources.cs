using Microsoft.Extensions.Configuration;

/// <summary>The servers' resources the services reference, by the names they read.</summary>
internal sealed record MovieDbServers(
    IResourceBuilder<IResourceWithConnectionString> MovieDb,
    IResourceBuilder<IResourceWithConnectionString> UserDb,
    IResourceBuilder<IResourceWithConnectionString> Messaging,
    IResourceBuilder<IResourceWithConnectionString> Mail,
    IResourceBuilder<IResourceWithConnectionString> Cache);

internal static class ServerResources
{
    /// <summary>
    /// The switch between containers (<c>containers</c>, the default) and servers that already run
    /// (<c>existing</c>): <c>--MovieDb:Servers existing</c>, or <c>MovieDb__Servers=existing</c> in the environment.
    /// </summary>
    public const string ModeKey = "MovieDb:Servers";

    public static MovieDbServers AddServers(this IDistributedApplicationBuilder builder)
    {
        var mode = builder.Configuration[ModeKey];
        if (string.IsNullOrEmpty(mode) || mode.Equals("containers", StringComparison.OrdinalIgnoreCase))
        {
            return builder.AddContainers();
        }

        return mode.Equals("existing", StringComparison.OrdinalIgnoreCase)
            ? builder.AddExistingServers()
            : throw new DistributedApplicationException($"{ModeKey} is '{mode}': use 'containers' (the default) or 'existing'.");
    }

    /// <summary>
    /// Databases, broker, cache and mail catcher as containers. Named volumes and the persistent lifetime keep
    /// their data (and their generated passwords' meaning) across AppHost restarts.
    /// </summary>
    private static MovieDbServers AddContainers(this IDistributedApplicationBuilder builder)
    {
        // MySQL 8.4 LTS: the newest line Pomelo 9 (EF Core 9) is tested against; the integration's
        // default image tag is newer.
        var mysql = builder.AddMySql("mysql")
            .WithImageTag("8.4")
            .WithDataVolume()
            .WithLifetime(ContainerLifetime.Persistent);

        var mongo = builder.AddMongoDB("mongo")
            .WithDataVolume()
            .WithLifetime(ContainerLifetime.Persistent);

        // The management UI (port 15672) shows queues, the dead-letter queue and consumers.
        var messaging = builder.AddRabbitMQ("messaging")
            .WithManagementPlugin()
            .WithDataVolume()
            .WithLifetime(ContainerLifetime.Persistent);

        // Mail in development: MailPit catches every mail the services send and shows it in its web UI
        // (the "http" endpoint on the dashboard). Nothing is kept: no volume. In Azure, "mail" is a real
        // relay instead (docs/deploy.md). The services get only the SMTP URI, as a connection string.
        var mailpit = builder.AddContainer("mailpit", "docker.io/axllent/mailpit", "v1.27.8")
            .WithEndpoint(targetPort: 1025, name: "smtp", scheme: "tcp")
            .WithHttpEndpoint(targetPort: 8025, name: "http");
        var smtp = mailpit.GetEndpoint("smtp");
        var mail = builder.AddConnectionString(
            "mail",
            ReferenceExpression.Create($"smtp://{smtp.Property(EndpointProperty.Host)}:{smtp.Property(EndpointProperty.Port)}"));

        // The cache and coordination store of the gateway and the web app (rate limits, the sign-in
        // throttle, the web app's keys and sessions): shared by all their instances, never a system of
        // record. The volume keeps the web app's keys across restarts (nobody is signed out).
        var cache = builder.AddRedis("cache")
            .WithDataVolume()
            .WithLifetime(ContainerLifetime.Persistent);

        return new MovieDbServers(mysql.AddDatabase("moviedb"), mongo.AddDatabase("userdb"), messaging, mail, cache);
    }

    /// <summary>
    /// Servers that already run: each resource is the connection string of the same name
    /// (<c>ConnectionStrings:moviedb</c>, <c>…:userdb</c>, <c>…:messaging</c>, <c>…:mail</c>,
    /// <c>…:cache</c>), which the services receive unchanged. <c>userdb</c> may be a LiteDB file
    /// (<c>Filename=…</c>).
    /// </summary>
    private static MovieDbServers AddExistingServers(this IDistributedApplicationBuilder builder) => new(
        builder.AddConnectionString("moviedb"),
        builder.AddConnectionString("userdb"),
        builder.AddConnectionString("messaging"),
        builder.AddConnectionString("mail"),
        builder.AddConnectionString("cache"));
}
