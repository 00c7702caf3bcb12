using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>Start-up rules of the gateway's configuration, CORS, and trace propagation through the proxy.</summary>
public sealed class GatewayConfigurationTests(GatewayConfigurationTests.System system, TestServers servers) : IClassFixture<GatewayConfigurationTests.System>
{
    public sealed class System(TestServers servers) : InProcessSystem(servers);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Minimal(string? signingKey) => new()
    {
        ["ConnectionStrings:messaging"] = "amqp://guest:guest@127.0.0.1:1/",
        ["Aspire:RabbitMQ:Client:MaxConnectRetryCount"] = "0",
        ["services:movieservice:http:0"] = "http://127.0.0.1:1",
        ["Jwt:SigningKey"] = signingKey,
        ["GatewayIdentity:SigningKey"] = InProcessSystem.IdentityKey,
        ["Messaging:SigningKey"] = InProcessSystem.MessagingSigningKey,
    };

    [Fact]
    public void Outside_Development_the_gateway_refuses_to_start_without_a_signing_key()
    {
        using var factory = new ServiceFactory<GatewayApp>(Minimal(null), "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("Jwt:SigningKey is not set", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_proxied_routes_use_the_gateways_api_policy_and_the_movie_services_body_limit_and_an_unknown_policy_stops_the_start()
    {
        // The one place a limit is named outside the code: appsettings.json's ReverseProxy section.
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "Gateway", "appsettings.json")));
        var routes = json.RootElement.GetProperty("ReverseProxy").GetProperty("Routes").EnumerateObject().ToList();
        Assert.NotEmpty(routes);
        Assert.All(routes, route => Assert.Equal(Gateway.Limits.RateLimiting.ApiPolicy, route.Value.GetProperty("RateLimiterPolicy").GetString()));

        // And it lets through exactly the bodies the movie service accepts.
        Assert.All(routes, route => Assert.Equal(MovieService.Contracts.MovieLimits.MaxBodyBytes, route.Value.GetProperty("MaxRequestBodySize").GetInt64()));

        // A misspelt one is no silent "unlimited": YARP refuses the route and the gateway does not start.
        var settings = Minimal(InProcessSystem.SigningKey);
        settings["ReverseProxy:Routes:movies:RateLimiterPolicy"] = "apj";
        using var factory = new ServiceFactory<GatewayApp>(settings, "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("RateLimiter policy 'apj' not found for route 'movies'", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_signing_key_shorter_than_256_bits_is_refused()
    {
        using var factory = new ServiceFactory<GatewayApp>(Minimal("too-short-key-of-31-characters!"), "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains("at least 256", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task In_Development_a_key_is_generated_and_tokens_work()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var settings = Minimal(null);
        settings["ConnectionStrings:messaging"] = vhost.ConnectionString;
        await using var factory = new ServiceFactory<GatewayApp>(settings, "Development");
        using var client = factory.CreateClient();

        using var response = await client.GetAsync("/api/users/me", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.True(factory.Services.GetService(typeof(Gateway.Auth.SigningKeyring)) is Gateway.Auth.SigningKeyring { AccessTokens.Key.Length: 64 });
    }

    // A generated key would not be the other service's: these two are required even in Development.
    [Theory]
    [InlineData("GatewayIdentity:SigningKey", "Development")]
    [InlineData("GatewayIdentity:SigningKey", "Production")]
    [InlineData("Messaging:SigningKey", "Development")]
    [InlineData("Messaging:SigningKey", "Production")]
    public void Without_a_key_it_shares_with_another_service_the_gateway_refuses_to_start_in_every_environment(string key, string environment)
    {
        var settings = Minimal(InProcessSystem.SigningKey);
        settings.Remove(key);
        using var factory = new ServiceFactory<GatewayApp>(settings, environment);

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains($"{key} is not set", error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RateLimiting:Auth:PermitLimit", "10", "'Auth'")]
    [InlineData("RateLimiting:SignIn:PermitLimt", "5", "'PermitLimt'")]
    public void A_rate_limit_setting_that_binds_to_nothing_stops_the_start_naming_it(string key, string value, string named)
    {
        var settings = Minimal(InProcessSystem.SigningKey);
        settings[key] = value;
        using var factory = new ServiceFactory<GatewayApp>(settings, "Production");

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cors_is_off_unless_origins_are_configured()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, "/api/movies");
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Add("Access-Control-Request-Method", "GET");
        using var client = system.CreateClient();

        using var response = await client.SendAsync(request, Ct);

        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Configured_origins_get_cors_answers_and_others_do_not()
    {
        await using var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var settings = Minimal(InProcessSystem.SigningKey);
        settings["ConnectionStrings:messaging"] = vhost.ConnectionString;
        settings["Cors:AllowedOrigins:0"] = "https://app.example";
        await using var factory = new ServiceFactory<GatewayApp>(settings);
        using var client = factory.CreateClient();

        foreach (var (origin, allowed) in new[] { ("https://app.example", true), ("https://evil.example", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, "/api/auth/login");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "content-type");
            using var response = await client.SendAsync(request, Ct);
            Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
        }
    }

    [Fact]
    public async Task The_trace_context_travels_through_the_proxy_to_the_movie_service()
    {
        var user = await system.NewUserAsync();
        using var client = user.CreateClient();
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/movies/{Guid.NewGuid()}");
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");

        using var response = await client.SendAsync(request, Ct);

        // The 404 comes from the movie service; its traceId is the trace the client started.
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("Movie not found", problem.GetProperty("title").GetString());
        Assert.Contains(traceId, problem.GetProperty("traceId").GetString(), StringComparison.Ordinal);
    }
}
