using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using MovieDb.ServiceDefaults;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Service defaults shared by every MovieDb service, in the shape of the Aspire service-defaults
/// template: OpenTelemetry, health checks, service discovery, HttpClient resilience and RFC 9457
/// problem details.
/// </summary>
public static class Extensions
{
    /// <summary>Readiness: every registered health check must pass.</summary>
    public const string HealthEndpointPath = "/health";

    /// <summary>Liveness: only the checks tagged <see cref="LiveTag"/> must pass.</summary>
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>The tag that puts a health check into the liveness endpoint.</summary>
    public const string LiveTag = "live";

    /// <summary>
    /// Adds OpenTelemetry, the default health checks, service discovery, standard resilience for
    /// every <see cref="HttpClient"/> and problem details with a <c>traceId</c>.
    /// </summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.AddDefaultProblemDetails();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// Logs, metrics and traces through OpenTelemetry; exported over OTLP only when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the AppHost sets it to the dashboard).
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation())
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                // Probes hit the health endpoints every few seconds: they would drown real traces.
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsHealthEndpoint(context.Request.Path))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    /// <summary>Adds the <c>self</c> check, tagged <see cref="LiveTag"/>.</summary>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Every error answer is an RFC 9457 problem details document carrying the request's
    /// <c>traceId</c>: unhandled exceptions become 500s without internals, and empty 4xx/5xx
    /// answers (404 for an unknown route, 405, 415...) get a body too.
    /// </summary>
    public static TBuilder AddDefaultProblemDetails<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
        });

        // Unreadable requests throw, so that BadRequestExceptionHandler can explain them.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();

        // A startup filter puts the handlers at the very front of the pipeline, before anything
        // the service adds, so that no error escapes them.
        builder.Services.AddTransient<IStartupFilter, ProblemDetailsStartupFilter>();
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (readiness: all checks) and <c>/alive</c> (liveness: checks tagged
    /// <c>live</c>) in every environment: container probes and the local launcher need them, and
    /// they reveal nothing but a status word.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath)
            .AllowAnonymous()
            .DisableHttpMetrics();

        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        })
            .AllowAnonymous()
            .DisableHttpMetrics();

        return app;
    }

    /// <summary>
    /// Makes the named health checks report <paramref name="status"/> when they fail, e.g. Degraded
    /// for a dependency the service can partly work without (<c>/health</c> still answers 200).
    /// </summary>
    public static IServiceCollection SetHealthCheckFailureStatus(this IServiceCollection services, HealthStatus status, params string[] names)
    {
        services.PostConfigure<HealthCheckServiceOptions>(options =>
        {
            foreach (var registration in options.Registrations.Where(r => names.Contains(r.Name, StringComparer.Ordinal)))
            {
                registration.FailureStatus = status;
            }
        });
        return services;
    }

    private static bool IsHealthEndpoint(PathString path) =>
        path.StartsWithSegments(HealthEndpointPath) || path.StartsWithSegments(AlivenessEndpointPath);

    private sealed class ProblemDetailsStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseExceptionHandler();
            app.UseStatusCodePages();
            next(app);
        };
    }
}
