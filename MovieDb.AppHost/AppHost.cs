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

// Each project gets ConnectionStrings__* and services__* for what it references, not the extra
// MOVIEDB_HOST/…_PASSWORD variables Aspire would add too: the services read nothing else.
const ReferenceEnvironmentInjectionFlags ReferenceKeys =
    ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery;

var movieService = builder.AddProject<Projects.MovieService>("movieservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(moviedb).WaitFor(moviedb)
    .WithReference(messaging).WaitFor(messaging)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.UserService>("userservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(userdb).WaitFor(userdb)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("Admin__Password", adminPassword)
    .WithHttpHealthCheck("/health");

// The gateway reaches the movie service by service discovery (services__movieservice__http__0)
// and the user service only through the broker, so it references the first and not the second.
// The gateway will trust X-Forwarded-For only from the proxies in ForwardedHeaders:KnownProxies /
// KnownNetworks: set there the web app's address (or its network) once the gateway reads them, so
// that per-client limits count the people behind the web app, not the web app itself.
var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(movieService.GetEndpoint("http")).WaitFor(movieService)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// The browser UI: a client of the gateway's public API only (services__gateway__http__0).
builder.AddProject<Projects.WebApp>("webapp")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(gateway.GetEndpoint("http")).WaitFor(gateway)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

builder.Build().Run();
