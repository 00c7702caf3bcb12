// The MovieDb distributed application: infrastructure first, then the services that use it.
// Only the gateway (the API) and the web app (the UI) are reachable from outside.
var builder = DistributedApplication.CreateBuilder(args);

// Settings of a local run (scripts/run-local.sh): a JSON file rather than environment variables,
// which every project would inherit — connection strings and secrets included.
builder.AddSettingsFile();

// Secrets: generated on the first run and kept in this project's user secrets (SecretParameters.cs);
// azd generates them too when it deploys. Configuration (Parameters:*) overrides them.
var jwtSigningKey = builder.AddGeneratedSecret("jwt-signing-key");
var adminPassword = builder.AddGeneratedSecret("admin-password", minLength: 20);
// The gateway signs the caller's identity for the movie service with this key; only they hold it.
var gatewayIdentityKey = builder.AddGeneratedSecret("gateway-identity-key");
// The gateway signs its requests to the user service with this key (over the broker); only they hold it.
var messagingSigningKey = builder.AddGeneratedSecret("messaging-signing-key");
// The user service signs its events with this key; the services that act on them (movie, notification) check it.
var eventSigningKey = builder.AddGeneratedSecret("event-signing-key");

// The servers (MySQL, MongoDB, RabbitMQ, mail, Redis): containers (the default), or servers that already run (MovieDb:Servers=existing, for
// machines without Docker and for managed services; ServerResources.cs). Same names either way.
var servers = builder.AddServers();
var (moviedb, userdb, messaging, mail, cache) = (servers.MovieDb, servers.UserDb, servers.Messaging, servers.Mail, servers.Cache);

// Each project gets ConnectionStrings__* and services__* for what it references, not the extra
// MOVIEDB_HOST/…_PASSWORD variables Aspire would add too: the services read nothing else.
const ReferenceEnvironmentInjectionFlags ReferenceKeys =
    ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery;

var movieService = builder.AddProject<Projects.MovieService>("movieservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(moviedb).WaitFor(moviedb)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("GatewayIdentity__SigningKey", gatewayIdentityKey)
    .WithEnvironment("Messaging__EventSigningKey", eventSigningKey)
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.UserService>("userservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(userdb).WaitFor(userdb)
    .WithReference(messaging).WaitFor(messaging)
    .WithEnvironment("Admin__Password", adminPassword)
    .WithEnvironment("Messaging__SigningKey", messagingSigningKey)
    .WithEnvironment("Messaging__EventSigningKey", eventSigningKey)
    .WithHttpHealthCheck("/health");

// The gateway reaches the movie service by service discovery (services__movieservice__http__0)
// and the user service only through the broker, so it references the first and not the second.
// Its instances share their rate limits and the sign-in throttle through the cache.
var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(movieService.GetEndpoint("http")).WaitFor(movieService)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(cache).WaitFor(cache)
    .WithEnvironment("Jwt__SigningKey", jwtSigningKey)
    .WithEnvironment("GatewayIdentity__SigningKey", gatewayIdentityKey)
    .WithEnvironment("Messaging__SigningKey", messagingSigningKey)
    .WithForwardedHeadersFromProxies(builder.ExecutionContext.IsRunMode)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// The browser UI: a client of the gateway's public API only (services__gateway__http__0); its
// instances share their keys and sessions through the cache.
var webApp = builder.AddProject<Projects.WebApp>("webapp")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(gateway.GetEndpoint("http")).WaitFor(gateway)
    .WithReference(cache).WaitFor(cache)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints();

// Sends the account mails (activation, a new address, a password reset): it consumes user events
// from the broker and talks SMTP to "mail". The links in them open the web app's activation and
// password-reset pages (the service appends ?token=…).
builder.AddProject<Projects.NotificationService>("notificationservice")
    .WithReferenceEnvironment(ReferenceKeys)
    .WithReference(messaging).WaitFor(messaging)
    .WithReference(mail).WaitFor(mail)
    .WithEnvironment("Notifications__ActivationUrl", ReferenceExpression.Create($"{webApp.GetEndpoint("http")}/activate"))
    .WithEnvironment("Notifications__PasswordResetUrl", ReferenceExpression.Create($"{webApp.GetEndpoint("http")}/reset-password"))
    .WithEnvironment("Messaging__EventSigningKey", eventSigningKey)
    .WithHttpHealthCheck("/health");

// MovieDb:Ports:{project} moves a project off its launch profile's port (run-local's MOVIEDB_*_PORT).
builder.UsePortsFromConfiguration();

builder.Build().Run();
