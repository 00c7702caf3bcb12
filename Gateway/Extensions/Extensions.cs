using System.Security.Cryptography;
using Gateway.Apis;
using Gateway.Auth;
using Gateway.OpenApi;
using Gateway.Proxy;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using MovieDb.Messaging.Contracts;
using Scalar.AspNetCore;

namespace Gateway.Extensions;

internal static class Extensions
{
    public const string AuthenticatedPolicy = "authenticated";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        // The user service, over RabbitMQ. Without the broker the gateway still proxies movies,
        // so broker trouble makes it Degraded, not unready.
        builder.AddRabbitMQClient("messaging");
        builder.AddRequestClient();
        builder.AddPerInstanceEventSubscription().On<UserDeleted, UserDeletedListener>();
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

        // Movies: YARP routes from configuration; http://movieservice resolved by service discovery.
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddTransforms(MovieProxy.Configure)
            .AddServiceDiscoveryDestinationResolver();

        builder.Services.AddOpenApi(GatewayOpenApi.Configure);
        builder.Services.Configure<KestrelServerOptions>(options => options.AddServerHeader = false);
        builder.AddCorsFromConfiguration();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<AccessTokens>();
        builder.Services.AddSingleton<DeletedUsers>();
    }

    /// <summary>The gateway's middleware, in order: headers, CORS, who is calling, may they, how often.</summary>
    public static WebApplication UseGatewayMiddleware(this WebApplication app)
    {
        app.UseSecurityHeaders();
        if (app.Services.GetService<Microsoft.AspNetCore.Cors.Infrastructure.ICorsService>() is not null)
        {
            app.UseCors();
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        return app;
    }

    /// <summary>The OpenAPI document (always) and the Scalar UI (Development only).</summary>
    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous().DisableRateLimiting();
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
    /// </summary>
    private static void AddJwtAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<JwtOptions>().BindConfiguration(JwtOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        var configured = builder.Configuration[$"{JwtOptions.SectionName}:SigningKey"];
        byte[] keyBytes;
        if (string.IsNullOrEmpty(configured))
        {
            if (!builder.Environment.IsDevelopment())
            {
                throw new InvalidOperationException(
                    "Jwt:SigningKey is not set. It signs the access tokens and is required outside Development: set the environment variable " +
                    "Jwt__SigningKey to at least 32 random bytes of text (64 characters recommended; the AppHost passes its 'jwt-signing-key' parameter).");
            }

            keyBytes = RandomNumberGenerator.GetBytes(64);
            builder.Services.AddHostedService<GeneratedKeyNotice>();
        }
        else
        {
            keyBytes = System.Text.Encoding.UTF8.GetBytes(configured);
            if (keyBytes.Length < JwtOptions.MinimumKeyBytes)
            {
                throw new InvalidOperationException($"Jwt:SigningKey is {keyBytes.Length * 8} bits; HS256 needs at least {JwtOptions.MinimumKeyBytes * 8}.");
            }
        }

        builder.Services.AddSingleton(new SigningKey(new SymmetricSecurityKey(keyBytes), generated: string.IsNullOrEmpty(configured)));
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SigningKey, IOptions<JwtOptions>>((options, key, jwt) =>
            {
                options.MapInboundClaims = false;
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = jwt.Value.Issuer,
                    ValidAudience = jwt.Value.Audience,
                    IssuerSigningKey = key.Key,
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
                options.Events = new JwtBearerEvents
                {
                    OnTokenValidated = context =>
                    {
                        var deleted = context.HttpContext.RequestServices.GetRequiredService<DeletedUsers>();
                        if (context.Principal?.FindFirst(TokenClaims.Subject)?.Value is not { } userId || deleted.Contains(userId))
                        {
                            context.Fail("The account no longer exists.");
                        }

                        return Task.CompletedTask;
                    },
                };
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

    private sealed class GeneratedKeyNotice(ILogger<GeneratedKeyNotice> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogWarning("Jwt:SigningKey is not set (Development): using a key generated at start-up. Tokens stop working when the gateway restarts.");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
