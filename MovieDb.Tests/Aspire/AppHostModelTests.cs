using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// The AppHost's resource graph, checked without containers: the model after build, and the
/// manifest it publishes (what azd deploys from).
/// </summary>
public sealed class AppHostModelTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<IDistributedApplicationTestingBuilder> CreateBuilderAsync(params string[] args)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.MovieDb_AppHost>(args, Ct).WaitAsync(Timeout, Ct);
        builder.Configuration["Parameters:jwt-signing-key"] = new string('k', 64);
        builder.Configuration["Parameters:admin-password"] = "admin-password-for-tests";
        return builder;
    }

    [Fact]
    public async Task The_model_holds_the_resources_and_each_project_waits_for_exactly_what_it_uses()
    {
        var builder = await CreateBuilderAsync();
        await using var app = await builder.BuildAsync(Ct).WaitAsync(Timeout, Ct);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var resources = model.Resources.ToDictionary(r => r.Name);

        foreach (var name in new[] { "mysql", "moviedb", "mongo", "userdb", "messaging", "movieservice", "userservice", "gateway", "jwt-signing-key", "admin-password" })
        {
            Assert.True(resources.ContainsKey(name), $"missing resource {name}");
        }

        // WaitFor on a database also waits for its server; nothing else may creep in.
        AssertWaits(resources["movieservice"], required: ["moviedb", "messaging"], allowed: ["mysql"]);
        AssertWaits(resources["userservice"], required: ["userdb", "messaging"], allowed: ["mongo"]);
        AssertWaits(resources["gateway"], required: ["movieservice", "messaging"], allowed: []);

        var external = model.Resources.OfType<ProjectResource>()
            .Where(p => p.Annotations.OfType<EndpointAnnotation>().Any(e => e.IsExternal))
            .Select(p => p.Name);
        Assert.Equal(["gateway"], external);
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
    public async Task The_published_manifest_gives_each_project_exactly_its_configuration_and_only_the_gateway_is_external()
    {
        var output = Directory.CreateTempSubdirectory("moviedb-manifest-");
        try
        {
            var builder = await CreateBuilderAsync("--publisher", "manifest", "--output-path", output.FullName);
            await using var app = await builder.BuildAsync(Ct).WaitAsync(Timeout, Ct);
            await app.StartAsync(Ct).WaitAsync(Timeout, Ct);

            var path = Path.Combine(output.FullName, "aspire-manifest.json");
            var deadline = DateTime.UtcNow + Timeout;
            while (!File.Exists(path) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, Ct);
            }

            Assert.True(File.Exists(path), $"no manifest at {path}");
            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(path, Ct));
            var resources = manifest.RootElement.GetProperty("resources");

            var movieService = Env(resources, "movieservice");
            Assert.Contains("ConnectionStrings__moviedb", movieService);
            Assert.Contains("ConnectionStrings__messaging", movieService);
            Assert.DoesNotContain("ConnectionStrings__userdb", movieService);
            Assert.DoesNotContain("Jwt__SigningKey", movieService);

            var userService = Env(resources, "userservice");
            Assert.Contains("ConnectionStrings__userdb", userService);
            Assert.Contains("ConnectionStrings__messaging", userService);
            Assert.Equal("{admin-password.value}", userService["Admin__Password"]);
            Assert.DoesNotContain("ConnectionStrings__moviedb", userService);

            var gateway = Env(resources, "gateway");
            Assert.Contains("ConnectionStrings__messaging", gateway);
            Assert.Contains("services__movieservice__http__0", gateway);
            Assert.Equal("{jwt-signing-key.value}", gateway["Jwt__SigningKey"]);
            Assert.DoesNotContain("ConnectionStrings__moviedb", gateway);
            Assert.DoesNotContain("ConnectionStrings__userdb", gateway);

            Assert.True(IsExternal(resources, "gateway"));
            Assert.False(IsExternal(resources, "movieservice"));
            Assert.False(IsExternal(resources, "userservice"));

            // azd needs a generated default for every parameter it cannot ask for.
            foreach (var parameter in new[] { "jwt-signing-key", "admin-password" })
            {
                var input = resources.GetProperty(parameter).GetProperty("inputs").GetProperty("value");
                Assert.True(input.GetProperty("secret").GetBoolean());
                Assert.True(input.GetProperty("default").GetProperty("generate").GetProperty("minLength").GetInt32() >= 20);
            }
        }
        finally
        {
            output.Delete(recursive: true);
        }

        static Dictionary<string, string> Env(JsonElement resources, string name) =>
            resources.GetProperty(name).GetProperty("env").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty);

        static bool IsExternal(JsonElement resources, string name) =>
            resources.GetProperty(name).TryGetProperty("bindings", out var bindings)
            && bindings.EnumerateObject().Any(b => b.Value.TryGetProperty("external", out var external) && external.GetBoolean());
    }
}
