using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Gateway;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MovieService;
using NotificationService;
using UserService;
using WebApp;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// The AppHost's resource graph, checked without containers: the model after build, and the
/// manifest it publishes (what azd deploys from).
/// </summary>
public sealed class AppHostModelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static readonly string[] Projects = ["movieservice", "userservice", "gateway", "webapp", "notificationservice"];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("containers")]
    [InlineData("existing")]
    public async Task The_model_holds_the_resources_and_each_project_waits_for_exactly_what_it_uses(string servers)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>([$"MovieDb:Servers={servers}"], Ct).WaitAsync(Timeout, Ct);
        builder.Configuration["Parameters:jwt-signing-key"] = new string('k', 64);
        builder.Configuration["Parameters:admin-password"] = "admin-password-for-tests";
        await using var app = await builder.BuildAsync(Ct).WaitAsync(Timeout, Ct);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var resources = model.Resources.ToDictionary(r => r.Name);

        // The same names in both modes: the services cannot tell them apart.
        foreach (var name in new[] { "moviedb", "userdb", "messaging", "mail", "cache", "movieservice", "userservice", "gateway", "webapp", "notificationservice", "jwt-signing-key", "admin-password", "gateway-identity-key", "messaging-signing-key", "event-signing-key" })
        {
            Assert.True(resources.ContainsKey(name), $"missing resource {name}");
        }

        string[] containers = ["mysql", "mongo", "mailpit"];
        if (servers == "existing")
        {
            // Nothing runs in a container; each server is the connection string of the same name, given by the user.
            Assert.Empty(model.Resources.OfType<ContainerResource>());
            Assert.DoesNotContain(resources.Keys, containers.Contains);
            foreach (var name in new[] { "moviedb", "userdb", "messaging", "mail", "cache" })
            {
                Assert.True(resources[name] is ParameterResource { Secret: true } and IResourceWithConnectionString, $"{name} is {resources[name].GetType().Name}, not a secret connection string");
            }

            containers = [];
        }
        else
        {
            Assert.All(containers, name => Assert.IsAssignableFrom<ContainerResource>(resources[name]));
            Assert.IsAssignableFrom<ContainerResource>(resources["messaging"]);
            Assert.IsAssignableFrom<ContainerResource>(resources["cache"]);

            // The mail connection string is MailPit's SMTP endpoint.
            var mail = Assert.IsType<global::Aspire.Hosting.ConnectionStringResource>(resources["mail"]);
            Assert.Contains(mail.ConnectionStringExpression.ValueProviders.OfType<EndpointReferenceExpression>(),
                e => e.Endpoint.Resource.Name == "mailpit" && e.Endpoint.EndpointName == "smtp");
            var smtp = resources["mailpit"].Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "smtp");
            var ui = resources["mailpit"].Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == "http");
            Assert.Equal((1025, 8025), (smtp.TargetPort, ui.TargetPort));
            Assert.False(smtp.IsExternal || ui.IsExternal);
        }

        // WaitFor on a database also waits for its server; nothing else may creep in.
        AssertWaits(resources["movieservice"], required: ["moviedb", "messaging"], allowed: containers);
        AssertWaits(resources["userservice"], required: ["userdb", "messaging"], allowed: containers);
        AssertWaits(resources["gateway"], required: ["movieservice", "messaging", "cache"], allowed: []);
        AssertWaits(resources["webapp"], required: ["gateway", "cache"], allowed: []);
        AssertWaits(resources["notificationservice"], required: ["messaging", "mail"], allowed: containers);

        // Only the notification service gets the mail server.
        foreach (var project in new[] { "movieservice", "userservice", "gateway", "webapp" })
        {
            Assert.DoesNotContain(resources[project].Annotations.OfType<ResourceRelationshipAnnotation>(), r => r.Resource.Name is "mail" or "mailpit");
        }

        var external = model.Resources.OfType<ProjectResource>()
            .Where(p => p.Annotations.OfType<EndpointAnnotation>().Any(e => e.IsExternal))
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(["gateway", "webapp"], external);
        Assert.True(((ParameterResource)resources["jwt-signing-key"]).Secret);
        Assert.True(((ParameterResource)resources["admin-password"]).Secret);

        static void AssertWaits(IResource resource, string[] required, string[] allowed)
        {
            var waits = resource.Annotations.OfType<WaitAnnotation>().Select(w => w.Resource.Name).ToHashSet(StringComparer.Ordinal);
            Assert.Superset(new HashSet<string>(required, StringComparer.Ordinal), waits);
            Assert.Subset(new HashSet<string>(required.Concat(allowed), StringComparer.Ordinal), waits);
        }
    }

    [Fact]
    public async Task An_unknown_server_mode_stops_the_AppHost_naming_the_setting_and_its_values()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>(["MovieDb:Servers=docker"], Ct).WaitAsync(Timeout, Ct);
            await using var app = await builder.BuildAsync(Ct).WaitAsync(Timeout, Ct);
        });
        var message = error.ToString();
        Assert.Contains("MovieDb:Servers is 'docker'", message, StringComparison.Ordinal);
        Assert.Contains("'existing'", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_existing_servers_mode_the_manifest_asks_for_each_servers_connection_string_and_wires_it_as_in_containers_mode()
    {
        var existing = await PublishedManifest.GetResourcesAsync("existing").WaitAsync(Timeout, Ct);
        var containers = await PublishedManifest.GetResourcesAsync().WaitAsync(Timeout, Ct);

        foreach (var name in new[] { "moviedb", "userdb", "messaging", "mail", "cache" })
        {
            var server = existing.GetProperty(name);
            Assert.Equal("parameter.v0", server.GetProperty("type").GetString());
            Assert.Equal($"{{{name}.value}}", server.GetProperty("connectionString").GetString());
            Assert.True(server.GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean(), $"{name} is not secret");
        }

        Assert.DoesNotContain(existing.EnumerateObject(), r => r.Value.GetProperty("type").GetString()!.StartsWith("container", StringComparison.Ordinal));
        foreach (var project in Projects)
        {
            Assert.Equal(containers.Environment(project), existing.Environment(project));
        }
    }

    [Fact]
    public async Task The_published_manifest_wires_each_project_to_its_own_resources_and_only_the_gateway_and_the_web_app_are_external()
    {
        var resources = await PublishedManifest.GetResourcesAsync().WaitAsync(Timeout, Ct);

        var movieService = resources.Environment("movieservice");
        Assert.Equal("{moviedb.connectionString}", movieService["ConnectionStrings__moviedb"]);
        Assert.Equal("{messaging.connectionString}", movieService["ConnectionStrings__messaging"]);

        var userService = resources.Environment("userservice");
        Assert.Equal("{userdb.connectionString}", userService["ConnectionStrings__userdb"]);
        Assert.Equal("{messaging.connectionString}", userService["ConnectionStrings__messaging"]);
        Assert.Equal("{admin-password.value}", userService["Admin__Password"]);
        Assert.Equal("{messaging-signing-key.value}", userService["Messaging__SigningKey"]);
        Assert.StartsWith("mongodb://", resources.GetProperty("userdb").GetProperty("connectionString").GetString(), StringComparison.Ordinal);

        var notificationService = resources.Environment("notificationservice");
        Assert.Equal("{messaging.connectionString}", notificationService["ConnectionStrings__messaging"]);
        Assert.Equal("{mail.connectionString}", notificationService["ConnectionStrings__mail"]);
        Assert.Equal("smtp://{mailpit.bindings.smtp.host}:{mailpit.bindings.smtp.port}", resources.GetProperty("mail").GetProperty("connectionString").GetString());
        Assert.DoesNotContain(resources.Environment("userservice").Keys, key => key.Contains("mail", StringComparison.OrdinalIgnoreCase));
        // The links in the mails open the deployed web app, not the development default.
        Assert.Equal("{webapp.bindings.http.url}/activate", notificationService["Notifications__ActivationUrl"]);
        Assert.Equal("{webapp.bindings.http.url}/reset-password", notificationService["Notifications__PasswordResetUrl"]);

        var gateway = resources.Environment("gateway");
        Assert.Equal("{messaging.connectionString}", gateway["ConnectionStrings__messaging"]);
        Assert.Equal("{cache.connectionString}", gateway["ConnectionStrings__cache"]);
        Assert.Equal("{movieservice.bindings.http.url}", gateway["services__movieservice__http__0"]);
        Assert.Equal("{jwt-signing-key.value}", gateway["Jwt__SigningKey"]);
        Assert.Equal("{messaging-signing-key.value}", gateway["Messaging__SigningKey"]);
        // The keys services share reach those services only: the events' key the user service and the
        // two that act on its events, never the gateway (nor the requests' key anyone but the two).
        Assert.DoesNotContain("Messaging__SigningKey", movieService.Keys);
        Assert.DoesNotContain("Messaging__SigningKey", notificationService.Keys);
        Assert.DoesNotContain("GatewayIdentity__SigningKey", userService.Keys);
        foreach (var service in new[] { userService, movieService, notificationService })
        {
            Assert.Equal("{event-signing-key.value}", service["Messaging__EventSigningKey"]);
        }

        Assert.DoesNotContain("Messaging__EventSigningKey", gateway.Keys);

        // The web app knows the gateway's address and the cache, nothing else: no database, broker or internal service.
        var webApp = resources.Environment("webapp");
        Assert.Equal("{gateway.bindings.http.url}", webApp["services__gateway__http__0"]);
        Assert.Equal("{cache.connectionString}", webApp["ConnectionStrings__cache"]);
        Assert.DoesNotContain(webApp.Keys, key => (key.StartsWith("ConnectionStrings__", StringComparison.Ordinal) && key != "ConnectionStrings__cache") || key.Contains("movieservice", StringComparison.Ordinal));

        var external = resources.EnumerateObject()
            .Where(r => r.Value.TryGetProperty("bindings", out var bindings)
                && bindings.EnumerateObject().Any(b => b.Value.TryGetProperty("external", out var e) && e.GetBoolean()))
            .Select(r => r.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(["gateway", "webapp"], external);
    }

    [Fact]
    public async Task Every_parameter_has_a_generated_default_so_azd_has_nothing_to_ask()
    {
        var resources = await PublishedManifest.GetResourcesAsync().WaitAsync(Timeout, Ct);
        var parameters = resources.EnumerateObject().Where(r => r.Value.GetProperty("type").GetString() == "parameter.v0").ToList();

        Assert.Contains(parameters, p => p.Name == "jwt-signing-key");
        Assert.Contains(parameters, p => p.Name == "admin-password");
        Assert.Contains(parameters, p => p.Name == "messaging-signing-key");
        Assert.Contains(parameters, p => p.Name == "event-signing-key");
        foreach (var parameter in parameters)
        {
            var input = parameter.Value.GetProperty("inputs").GetProperty("value");
            Assert.True(input.GetProperty("secret").GetBoolean(), $"{parameter.Name} is not secret");
            Assert.True(
                input.TryGetProperty("default", out var @default) && @default.GetProperty("generate").GetProperty("minLength").GetInt32() >= 20,
                $"{parameter.Name} has no generated default of at least 20 characters: azd would have to ask for it");
        }
    }

    [Fact]
    public async Task Stateful_resources_keep_their_data_in_volumes_mysql_is_pinned_to_8_4_and_mailpit_keeps_nothing()
    {
        var resources = await PublishedManifest.GetResourcesAsync().WaitAsync(Timeout, Ct);

        foreach (var (name, target) in new[] { ("mysql", "/var/lib/mysql"), ("mongo", "/data/db"), ("messaging", "/var/lib/rabbitmq") })
        {
            var volumes = resources.GetProperty(name).TryGetProperty("volumes", out var v) ? v.EnumerateArray().ToList() : [];
            Assert.Contains(volumes, volume => volume.GetProperty("target").GetString() == target && !volume.GetProperty("readOnly").GetBoolean());
        }

        // Pomelo 9 (EF Core 9) is tested against MySQL 8.x; the integration's default image is newer.
        Assert.Equal("docker.io/library/mysql:8.4", resources.GetProperty("mysql").GetProperty("image").GetString());

        // Mail in development is throwaway: no volume; and a pinned tag, never "latest".
        var mailpit = resources.GetProperty("mailpit");
        Assert.Equal("docker.io/axllent/mailpit:v1.27.8", mailpit.GetProperty("image").GetString());
        Assert.False(mailpit.TryGetProperty("volumes", out var mailVolumes) && mailVolumes.GetArrayLength() > 0);
    }

    public static TheoryData<string> ProjectNames => new(Projects);

    /// <summary>
    /// Starts the service in process with exactly what the manifest gives it (expressions resolved
    /// to local values), in Production, and records which of those keys its own configuration code
    /// reads: everything given must be read (nothing dead or misspelt), and the service must start
    /// with nothing more (nothing it needs is missing).
    /// </summary>
    [Theory]
    [MemberData(nameof(ProjectNames))]
    public async Task Each_project_receives_exactly_the_configuration_keys_it_reads(string project)
    {
        var resources = await PublishedManifest.GetResourcesAsync().WaitAsync(Timeout, Ct);
        var given = resources.Environment(project)
            .Where(p => !IsPlatformVariable(p.Key))
            .ToDictionary(p => p.Key.Replace("__", ":", StringComparison.Ordinal), p => resources.Resolve(p.Value), StringComparer.OrdinalIgnoreCase);
        var recording = new RecordingConfiguration(given);

        await using IAsyncDisposable factory = project switch
        {
            "movieservice" => await StartAsync(new RecordingFactory<MovieServiceApp>(recording)),
            "userservice" => await StartAsync(new RecordingFactory<UserServiceApp>(recording)),
            "gateway" => await StartAsync(new RecordingFactory<GatewayApp>(recording)),
            "webapp" => await StartAsync(new RecordingFactory<WebAppApp>(recording)),
            "notificationservice" => await StartAsync(new RecordingFactory<NotificationServiceApp>(recording)),
            _ => throw new ArgumentOutOfRangeException(nameof(project)),
        };

        var unread = given.Keys.Except(recording.ReadKeys, StringComparer.OrdinalIgnoreCase).Order().ToList();
        Assert.True(unread.Count == 0, $"{project} is given keys it never reads: {string.Join(", ", unread)}");

        static async Task<IAsyncDisposable> StartAsync<T>(RecordingFactory<T> factory) where T : class
        {
            // A request makes every lazily read setting (routes, proxy destinations) read at least once;
            // /health also resolves the web app's gateway address (its readiness calls the gateway).
            using var client = factory.CreateClient();
            using var response = await client.GetAsync("/alive", Ct);
            Assert.True(response.IsSuccessStatusCode, $"{typeof(T).Name} did not start with the manifest's configuration");
            // Checks of servers the manifest names but this machine lacks (MongoDB) would wait out their
            // own time-outs (a minute); the settings they read were read when they were registered.
            using var patience = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            patience.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                using var health = await client.GetAsync("/health", patience.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
            }

            return factory;
        }
    }

    /// <summary>Variables the .NET host and OpenTelemetry read themselves, not the service's code.</summary>
    private static bool IsPlatformVariable(string name) =>
        name.StartsWith("OTEL_", StringComparison.Ordinal)
        || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
        || name.StartsWith("DOTNET_", StringComparison.Ordinal)
        || name is "HTTP_PORTS" or "HTTPS_PORTS";

    private sealed class RecordingFactory<T>(RecordingConfiguration configuration) : WebApplicationFactory<T>
        where T : class
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Critical));
            configuration.Use(builder);
        }
    }
}
