using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Gateway.Auth;
using Gateway.Settings;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Gateway.Limits;

/// <summary>
/// The ASP.NET Core rate limiter, configured for the gateway: a per-address floor for every request,
/// and a policy for each kind of route; the counts are shared by every gateway instance through the
/// cache (<see cref="SharedLimiters"/>). 429 with <c>Retry-After</c> and problem details (the
/// middleware's own default is an empty 503).
/// </summary>
internal static class RateLimiting
{
    public const string SignInPolicy = "sign-in";
    public const string RegistrationPolicy = "registration";
    public const string PasswordResetPolicy = "password-reset";
    public const string SessionsPolicy = "sessions";
    public const string AnonymousPolicy = "anonymous";
    public const string ApiPolicy = "api";

    // The per-address floor every request passes first (RateLimitingOptions.PerAddress).
    private const string AddressPolicy = "address";

    public static IServiceCollection AddGatewayRateLimiting(this IServiceCollection services)
    {
        // A key that binds to nothing (misspelt, or from an older release) stops the start naming it,
        // rather than leaving a limit that silently is not the one the operator set.
        services.AddOptions<RateLimitingOptions>()
            .BindConfiguration(RateLimitingOptions.SectionName, binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<SignInThrottle>();
        services.AddSingleton<DeviceTokens>();
        services.AddSingleton<ICurrentStamps>(sp => sp.GetRequiredService<UserSecurityCache>());
        services.AddSingleton<SharedLimiters>();
        services.AddSingleton<PasswordChangeLimiter>();
        services.AddRateLimiter(options =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.OnRejected = async (context, cancellationToken) => await TooManyRequests(
                context.HttpContext,
                context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1)).ExecuteAsync(context.HttpContext);

            // The per-address floor of a route under the api policy is taken by that policy, in the same
            // call to Redis as the user's own bucket (ApiPartition): one round trip per proxied request.
            options.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                TakesAddressWithApi(context)
                    ? RateLimitPartition.GetNoLimiter(string.Empty)
                    : Bucket(context, AddressPolicy, AddressPartition(context), limits => limits.PerAddress));

            options.AddPolicy(SignInPolicy, context => Window(context, SignInPolicy, ClientAddress(context), limits => limits.SignIn));
            options.AddPolicy(RegistrationPolicy, context => Window(context, RegistrationPolicy, ClientAddress(context), limits => limits.Registration));
            options.AddPolicy(PasswordResetPolicy, context => Window(context, PasswordResetPolicy, ClientAddress(context), limits => limits.PasswordResets));
            options.AddPolicy(SessionsPolicy, context => Window(context, SessionsPolicy, ClientAddress(context), limits => limits.Sessions));
            options.AddPolicy(AnonymousPolicy, context => Bucket(context, AnonymousPolicy, ClientAddress(context), limits => limits.Anonymous));
            options.AddPolicy(ApiPolicy, ApiPartition);
        });
        return services;
    }

    /// <summary>
    /// The api policy's partition: the signed-in user (or, for an anonymous call, the address) — and,
    /// with the counts in Redis, the address's floor too, both taken in one call.
    /// </summary>
    private static RateLimitPartition<string> ApiPartition(HttpContext context)
    {
        var caller = context.User.Identity?.IsAuthenticated == true ? "user:" + context.User.UserId() : "address:" + ClientAddress(context);
        var limiters = context.RequestServices.GetRequiredService<SharedLimiters>();
        if (!limiters.IsShared)
        {
            return Bucket(context, ApiPolicy, caller, limits => limits.Api);
        }

        var limits = context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value;
        var address = AddressPartition(context);
        return RateLimitPartition.Get(caller + " " + address, _ => limiters.TokenBuckets(
            [new Bucket(AddressPolicy, address, limits.PerAddress), new Bucket(ApiPolicy, caller, limits.Api)]));
    }

    /// <summary>Whether the request's route is under the api policy, which then takes the per-address floor itself.</summary>
    private static bool TakesAddressWithApi(HttpContext context) =>
        context.RequestServices.GetRequiredService<SharedLimiters>().IsShared
        && context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName == ApiPolicy;

    private static string AddressPartition(HttpContext context) => ClientAddress(context);

    /// <summary>
    /// The client's address: the connection's, or — when the forwarded-headers middleware trusted the
    /// proxy it came through (ForwardedHeaders:KnownProxies/KnownNetworks) — the address that proxy saw.
    /// An IPv6 client is known by its /64 network: one subscriber usually holds a whole /64 and could
    /// otherwise take a fresh address, and a fresh allowance, for every request.
    /// </summary>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress switch
    {
        null => "unknown",
        { IsIPv4MappedToIPv6: true } mapped => mapped.MapToIPv4().ToString(),
        { AddressFamily: AddressFamily.InterNetworkV6 } v6 => Network64(v6),
        var v4 => v4.ToString(),
    };

    private static string Network64(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }

    private static RateLimitPartition<string> Window(HttpContext context, string policy, string partition, Func<RateLimitingOptions, RateLimitingOptions.WindowLimit> select)
    {
        var limit = select(context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value);
        var limiters = context.RequestServices.GetRequiredService<SharedLimiters>();
        return RateLimitPartition.Get(partition, key => limiters.FixedWindow(policy, key, limit));
    }

    private static RateLimitPartition<string> Bucket(HttpContext context, string policy, string partition, Func<RateLimitingOptions, RateLimitingOptions.BucketLimit> select)
    {
        var limit = select(context.RequestServices.GetRequiredService<IOptions<RateLimitingOptions>>().Value);
        var limiters = context.RequestServices.GetRequiredService<SharedLimiters>();
        return RateLimitPartition.Get(partition, key => limiters.TokenBucket(policy, key, limit));
    }

    /// <summary>429 with <c>Retry-After</c> (whole seconds, at least 1) and problem details.</summary>
    public static ProblemHttpResult TooManyRequests(HttpContext httpContext, TimeSpan retryAfter) =>
        ProblemResults.RetryLater(
            httpContext,
            StatusCodes.Status429TooManyRequests,
            retryAfter,
            "Too many requests",
            $"Slow down: try again in {ProblemResults.RetryAfterSeconds(retryAfter)} second(s).");
}
