// The MovieDb distributed application: infrastructure first, then the services that use it.
// Only the gateway (the API) and the web app (the UI) are reachable from outside.
var builder = DistributedApplication.CreateBuilder(args);

// Secrets: generated on the first run and kept in this project's user secrets (persist: true);
// azd generates them too when it deploys. Configuration (Parameters:*) overrides them.
var jwtSigningKey = builder.AddParameter(
    "jwt-signing-key",
    new GenerateParameterDefault { MinLength = 64, Special = false },
    secret: true,
    persist: true);
var adminPassword = builder.AddParameter(
    "admin-password",
    new GenerateParameterDefault { MinLength = 20, Special = false },
    secret: true,
    persist: true);
// The gateway signs the caller's identity for the movie service with this key; only they hold it.
var gatewayIdentityKey = builder.AddParameter(
    "gateway-identity-key",
    new GenerateParameterDefault { MinLength = 64, Special = false },
    secret: true,
    persist: true);

// Databases and broker as containers. Named volumes and the persistent lifetime keep their data
// (and their generated passwords' meaning) across AppHost restarts.
// MySQL 8.4 LTS: the newest line Pomelo 9 (EF Core 9) is tested against; the integration's
// default image tag is newer.
var mysql = builder.AddMySql("mysql")
    .WithImageTag("8.4")
    .WithDataVolume()
    .WithLifetime(ContainerLifetime.Persistent);
var moviedb = mysql.AddDatabase("moviedb");

var mongo = builder.AddMongoDB("mongo")
    .WithDataVolume()
    .WithLifetime(ContainerLifetime.Persistent);
var userdb = mongo.AddDatabase("userdb");

// The management UI (port 15672) shows queues, the dead-letter queue and consumers.
var messaging = builder.AddRabbitMQ("messaging")
    .WithManagementPlugin()
    .WithDataVolume()
    .WithLifetime(ContainerLifetime.Persistent);

// Mail in development: MailPit catches every mail the services send and shows it in its web UI
// (the "http" endpoint on the dashboard). Nothing is kept: no volume. In Azure, point "mail" at a
// real relay instead (docs/deploy.md). The services get only the SMTP URI, as a connection string.
var mailpit = builder.AddContainer("mailpit", "docker.io/axllent/mailpit", "v1.27.8")
    .WithEndpoint(targetPort: 1025, name: "smtp", scheme: "tcp")
    .WithHttpEndpoint(targetPort: 8025, name: "http");
var smtp = mailpit.GetEndpoint("smtp");
var mail = builder.AddConnectionString(
    "mail",
    ReferenceExpression.Create($"smtp://{smtp.Property(EndpointProperty.Host)}:{smtp.Property(EndpointProperty.Port)}"));

// Each project gets ConnectionStrings__* and services__* for what it references, not the extra
// MOVIEDB_HOST/…_PASSWORD variables Aspire would add too: the services read nothing else.
const ReferenceEnvironmentInjectionFlags ReferenceKeys =
    ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery;

var movieService = builder.AddProject<Projects.MovieService>("movieservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(moviedb).WaitFor(moviedb)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("GatewayIdentity__SigningKey", gatewayIdentityKey)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.UserService>("userservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(userdb).WaitFor(userdb)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("Admin__Password", adminPassword)
    .WithHttpHealthCheck("/health");

// The gateway reaches the movie service by service discovery (services__movieservice__http__0)
// and the user service only through the broker, so it references the first and not the second.
var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(movieService.GetEndpoint("http")).WaitFor(movieService)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("GatewayIdentity__SigningKey", gatewayIdentityKey)
    .WithForwardedHeadersFromProxies(builder.ExecutionContext.IsRunMode)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// The browser UI: a client of the gateway's public API only (services__gateway__http__0).
var webApp = builder.AddProject<Projects.WebApp>("webapp")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(gateway.GetEndpoint("http")).WaitFor(gateway)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// Sends the activation mails: it consumes user events from the broker and talks SMTP to "mail".
// The links in them open the web app's activation page (the service appends ?token=…).
builder.AddProject<Projects.NotificationService>("notificationservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(mail).WaitFor(mail)
    .WithEnvironment("Notifications__ActivationUrl", ReferenceExpression.Create($"{webApp.GetEndpoint("http")}/activate"))
    .WithHttpHealthCheck("/health");

builder.Build().Run();

internal static class GatewayResourceExtensions
{
    // Aspire turns on ASP.NET Core's forwarded headers for every project, trusting X-Forwarded-For
    // from anyone who can reach the port. The gateway counts its rate limits per client address, so
    // it believes forwarded addresses only from where its proxies are: deployed, the networks of the
    // Container Apps environment (its ingress and the web app: private and carrier-grade NAT ranges);
    // run locally, the loopback address the web app (and everything else, through DCP) comes from.
    public static IResourceBuilder<ProjectResource> WithForwardedHeadersFromProxies(this IResourceBuilder<ProjectResource> gateway, bool runMode) =>
        runMode
            ? gateway.WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "false")
                .WithEnvironment("ForwardedHeaders__KnownProxies__0", "127.0.0.1")
                .WithEnvironment("ForwardedHeaders__KnownProxies__1", "::1")
            : gateway.WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "false")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__0", "10.0.0.0/8")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__1", "172.16.0.0/12")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__2", "192.168.0.0/16")
                .WithEnvironment("ForwardedHeaders__KnownNetworks__3", "100.64.0.0/10");
}
