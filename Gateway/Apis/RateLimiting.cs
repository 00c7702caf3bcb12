using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Gateway.Auth;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Apis;

/// <summary>Rate limits (section <c>RateLimiting</c>).</summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Sign-in and registration, per client IP address: a fixed window. Default 10 per minute.</summary>
    public WindowLimit Auth { get; set; } = new() { PermitLimit = 10, Window = TimeSpan.FromMinutes(1) };

    /// <summary>Everything else, per signed-in user (per IP when anonymous): a token bucket. Default bursts of 200, refilled at 100 per second.</summary>
    public BucketLimit Api { get; set; } = new() { TokenLimit = 200, TokensPerSecond = 100 };

    public sealed class WindowLimit
    {
        [Range(1, int.MaxValue)]
        public int PermitLimit { get; set; }

        public TimeSpan Window { get; set; }
    }

    public sealed class BucketLimit
    {
        [Range(1, int.MaxValue)]
        public int TokenLimit { get; set; }

        [Range(1, int.MaxValue)]
        public int TokensPerSecond { get; set; }
    }
}

/// <summary>
/// The ASP.NET Core rate limiter, configured for the gateway: 429 with <c>Retry-After</c> and
/// problem details (the middleware's own default is an empty 503).
/// </summary>
internal static class RateLimiting
{
    public const string AuthPolicy = "auth";
    public const string ApiPolicy = "api";

    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitingOptions>().BindConfiguration(RateLimitingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = OnRejectedAsync;

            options.AddPolicy(AuthPolicy, context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Auth;
                return RateLimitPartition.GetFixedWindowLimiter(ClientAddress(context), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = limit.PermitLimit,
                    Window = limit.Window,
                    QueueLimit = 0,
                });
            });

            options.AddPolicy(ApiPolicy, context =>
            {
                var limit = context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value.Api;
                var partition = context.User.Identity?.IsAuthenticated == true ? "user:" + context.User.UserId() : "ip:" + ClientAddress(context);
                return RateLimitPartition.GetTokenBucketLimiter(partition, _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = limit.TokenLimit,
                    TokensPerPeriod = limit.TokensPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
        });
        return services;
    }

    // Behind a reverse proxy (Container Apps ingress) this is the client only when the forwarded
    // headers middleware is on: the AppHost sets ASPNETCORE_FORWARDEDHEADERS_ENABLED in deployments.
    private static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        var response = context.HttpContext.Response;
        response.StatusCode = StatusCodes.Status429TooManyRequests;
        response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);

        var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context.HttpContext,
            ProblemDetails =
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests",
                Detail = $"Slow down: try again in {seconds} second(s).",
            },
        });
    }
}
