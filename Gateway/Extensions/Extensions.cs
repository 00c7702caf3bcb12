using System.Net;
using Gateway.Apis;
using Gateway.Auth;
using Gateway.IntegrationEvents;
using Gateway.Limits;
using Gateway.OpenApi;
using Gateway.Proxy;
using Gateway.Settings;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using MovieDb.Caching;
using Scalar.AspNetCore;
using UserService.Contracts;

namespace Gateway.Extensions;

internal static class Extensions
{
    public const string AuthenticatedPolicy = "authenticated";

    /// <summary>The key requests to the user service are signed with; the gateway and the user service hold it.</summary>
    public const string MessagingSigningKey = "Messaging:SigningKey";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // The user service, over RabbitMQ. Without the broker the gateway still proxies movies,
        // so broker trouble makes it Degraded, not unready.
        builder.AddRabbitMQClient("messaging");
        builder.AddSharedCache();
        builder.AddRequestClient(UserServiceQueues.Requests);

        // Every request to the user service and every reply is signed (MovieDb.Messaging's
        // MessageSignatures): nobody who can only read and publish on the broker can make one up,
        // change one or send an old one again.
        SigningKeys.Read(builder, MessagingSigningKey, "the requests the gateway sends the user service, and its replies (the user service must hold the same key)", generateInDevelopment: false);
        builder.AddPerInstanceEventSubscription().On<UserSecurityChanged, UserSecurityChangedConsumer>();
        builder.Services.SetHealthCheckFailureStatus(
            HealthStatus.Degraded,
            MessagingHostingExtensions.RabbitMQHealthCheckName,
            MessagingHostingExtensions.RequestClientHealthCheckName,
            "messaging-events");

        builder.AddJwtAuthentication();
        // Every endpoint states its own rule (no fallback policy: it would also guard the framework's
        // 404/405/415 answers and turn them into 401s).
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthenticatedPolicy, policy => policy.RequireAuthenticatedUser())
            .AddPolicy(UsersApi.AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole("admin"));

        builder.Services.AddGatewayRateLimiting();
        builder.AddForwardedHeadersFromConfiguration();

        // Movies: YARP routes from configuration; http://movieservice resolved by service discovery.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(MovieProxy.Configure)
            .AddServiceDiscoveryDestinationResolver();
        builder.Services.AddOptions<GatewayIdentityOptions>().BindConfiguration(GatewayIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<IdentityTokens>();

        builder.AddGatewayOpenApi();
        builder.Services.Configure<KestrelServerOptions>(options => options.AddServerHeader = false);
        builder.AddCorsFromConfiguration();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddSingleton<UserSecurityCache>();
    }

    /// <summary>
    /// The gateway's middleware, in order: who is really calling (forwarded headers from trusted
    /// proxies), headers, CORS, who they are, may they, how often, how much.
    /// </summary>
    public static WebApplication UseGatewayMiddleware(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersOptions>>().Value is { KnownProxies.Count: > 0 } or { KnownIPNetworks.Count: > 0 })
        {
            app.UseForwardedHeaders();
        }

        app.UseSecurityHeaders();
        if (app.Services.GetService<Microsoft.AspNetCore.Cors.Infrastructure.ICorsService>() is not null)
        {
            app.UseCors();
        }

        // Limits before authorization: refused requests count too. After authentication, because
        // signed-in calls are counted per user.
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        // After the limits: a copy served from the cache (the public OpenAPI document) counts too.
        app.UseOutputCache();
        app.Use(RequestBodyLimits.RejectOversizedBodiesAsync);
        return app;
    }

    /// <summary>The OpenAPI document (always) and the Scalar UI (Development only).</summary>
    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous().RequireRateLimiting(RateLimiting.AnonymousPolicy).CacheOutput(PublicDocumentCachePolicy.Name);
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference().AllowAnonymous();
        }

        return app;
    }

    /// <summary>The movie routes: YARP with problem details for an unreachable movie service.</summary>
    public static WebApplication MapMovieProxy(this WebApplication app)
    {
        app.MapReverseProxy(proxy =>
        {
            proxy.Use(MovieProxy.ProblemsForForwarderErrors);
            proxy.Use(MovieProxy.RejectOversizedBodies);
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }

    /// <summary>
    /// JWT bearer validation of MovieDb's own HS256 tokens: issuer, audience, lifetime, signature and
    /// algorithm all checked; claim names kept as issued (<c>sub</c>, <c>unique_name</c>, <c>role</c>).
    /// Then the account's current state decides: a token whose security stamp is no longer the
    /// account's is refused, and its role claims are replaced by the account's roles now.
    /// </summary>
    private static void AddJwtAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        var accessTokenKey = SigningKeys.Read(builder, $"{JwtOptions.SectionName}:SigningKey", "the access tokens", generateInDevelopment: true);
        var identityKey = SigningKeys.Read(builder, $"{GatewayIdentityOptions.SectionName}:SigningKey", "the caller identity the gateway forwards to the movie service (it must hold the same key)", generateInDevelopment: false);
        builder.Services.AddSingleton(new SigningKeyring(new SymmetricSecurityKey(accessTokenKey), new SymmetricSecurityKey(identityKey)));

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SigningKeyring, IOptions<JwtOptions>, TimeProvider>((options, keys, jwt, time) =>
            {
                options.MapInboundClaims = false;
                // A client sends the same access token for its whole lifetime: its signature is checked once.
                options.TokenHandlers.Clear();
                options.TokenHandlers.Add(new CachingJsonWebTokenHandler(time) { MapInboundClaims = false });
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKey = keys.AccessTokens,
                    ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                    ValidateIssuer = true,
                    ValidateAudience = true,
                    ValidateLifetime = true,
                    ValidateIssuerSigningKey = true,
                    RequireExpirationTime = true,
                    RequireSignedTokens = true,
                    ClockSkew = jwt.Value.ClockSkew,
                    NameClaimType = TokenClaims.UniqueName,
                    RoleClaimType = TokenClaims.Role,
                };
                options.Events = new JwtBearerEvents { OnTokenValidated = ApplyCurrentRightsAsync, OnChallenge = ChallengeAsync };
            });
    }

    private static async Task ApplyCurrentRightsAsync(TokenValidatedContext context)
    {
        if (context.Principal?.Identity is not System.Security.Claims.ClaimsIdentity identity
            || identity.FindFirst(TokenClaims.Subject)?.Value is not { } userId)
        {
            context.Fail("The token names no account.");
            return;
        }

        var cache = context.HttpContext.RequestServices.GetRequiredService<UserSecurityCache>();
        var stamp = identity.FindFirst(TokenClaims.SecurityStamp)?.Value ?? string.Empty;
        var (verdict, roles) = await cache.CheckAsync(userId, stamp, context.HttpContext.RequestAborted);
        if (verdict == SecurityVerdict.Ended)
        {
            context.Fail("The session has ended: the account was deleted, its roles or password changed, or it was signed out everywhere.");
            return;
        }

        if (verdict == SecurityVerdict.Unknown)
        {
            // Neither accepted nor refused: the challenge answers 503 rather than 401, so that the
            // client keeps its session and tries again.
            context.Fail(new RightsUnavailableException());
            return;
        }

        // The roles that count are the account's now. Unconfirmed (the user service cannot be asked):
        // the token's roles, but never admin — elevation is not taken on trust.
        var current = verdict == SecurityVerdict.Current
            ? roles
            : identity.FindAll(TokenClaims.Role).Select(c => c.Value).Where(r => r != "admin").ToList();
        foreach (var claim in identity.FindAll(TokenClaims.Role).ToList())
        {
            identity.RemoveClaim(claim);
        }

        identity.AddClaims(current.Select(role => new System.Security.Claims.Claim(TokenClaims.Role, role)));
    }

    /// <summary>A token the gateway could not check against the account's state: 503 with Retry-After, not 401.</summary>
    private static async Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        if (context.AuthenticateFailure is not RightsUnavailableException failure)
        {
            return;
        }

        context.HandleResponse();
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = ((int)RightsUnavailableException.RetryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails = { Status = StatusCodes.Status503ServiceUnavailable, Title = "Session cannot be checked", Detail = failure.Message },
        });
    }

    /// <summary>
    /// Forwarded headers (<c>X-Forwarded-For</c>, <c>-Proto</c>) are believed only from the proxies
    /// listed in <c>ForwardedHeaders:KnownProxies</c> (addresses) and <c>ForwardedHeaders:KnownNetworks</c>
    /// (CIDR): the web app and the Container Apps ingress. Without them nothing is trusted, and a
    /// client cannot choose the address its rate limits are counted against.
    /// </summary>
    private static void AddForwardedHeadersFromConfiguration(this IHostApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("ForwardedHeaders");
        var proxies = section.GetSection("KnownProxies").Get<string[]>() ?? [];
        var networks = section.GetSection("KnownNetworks").Get<string[]>() ?? [];
        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            options.ForwardLimit = section.GetValue<int?>("ForwardLimit") ?? 2;
            foreach (var proxy in proxies)
            {
                options.KnownProxies.Add(IPAddress.TryParse(proxy, out var address)
                    ? address
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{proxy}' is not an IP address."));
            }

            foreach (var network in networks)
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.TryParse(network, out var parsed)
                    ? parsed
                    : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{network}' is not a network in CIDR form (10.0.0.0/8)."));
            }
        });
    }

    /// <summary>CORS is off unless <c>Cors:AllowedOrigins</c> lists origins.</summary>
    private static void AddCorsFromConfiguration(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration.GetSection("Cors:AllowedOrigins").Get<string[]>() is not { Length: > 0 } origins)
        {
            return;
        }

        builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy => policy
            .WithOrigins(origins)
            .WithMethods("GET", "POST", "PUT", "DELETE")
            .WithHeaders("Authorization", "Content-Type", "If-Match", "Idempotency-Key")
            .WithExposedHeaders("ETag", "Location", "Retry-After")));
    }
}
