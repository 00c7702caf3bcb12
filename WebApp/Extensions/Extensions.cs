using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Http.Resilience;
using MovieDb.Caching;
using WebApp.Auth;
using WebApp.Settings;

namespace WebApp.Extensions;

internal static class Extensions
{
    public const string SessionCookieName = "moviedb.session";

    public static void AddApplicationServices(this WebApplicationBuilder builder)
    {
        // Framework assets (Blazor's script) are found from the build output in every environment,
        // not only in Development: run-local and the tests run built, unpublished binaries. A
        // published app has them in wwwroot, and this finds nothing more.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.Configure<KestrelServerOptions>(options => options.AddServerHeader = false);

        builder.AddSharedCache();
        builder.AddSessionAuthentication();
        builder.AddDataProtectionKeys();
        builder.AddGatewayClient();
        builder.Services.AddHealthChecks().AddCheck<GatewayHealthCheck>(GatewayHealthCheck.Name, HealthStatus.Degraded);
    }

    /// <summary>The web app's middleware, in order: headers, errors as pages, who is calling, may they, forms.</summary>
    public static WebApplication UseWebAppMiddleware(this WebApplication app)
    {
        app.UseSecurityHeaders();
        // Pages, not problem details, for a browser (ServiceDefaults' handlers sit outside these).
        app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }

    /// <summary>
    /// One HttpOnly, SameSite cookie; the gateway's tokens ride inside it, encrypted
    /// (<see cref="SessionTokens"/>). Secure follows the request: HTTPS in deployments (Container
    /// Apps terminates TLS and forwards the scheme), plain HTTP on a developer's machine.
    /// </summary>
    private static void AddSessionAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CookieSessionOptions>().BindConfiguration(CookieSessionOptions.SectionName);
        builder.Services.AddSingleton<RefreshCoordinator>();
        builder.Services.AddSingleton<SignedOutSessions>();
        builder.Services.AddSingleton<DeviceCookies>();
        builder.Services.AddScoped<SessionCookieEvents>();
        var lifetime = builder.Configuration.GetSection(CookieSessionOptions.SectionName).Get<CookieSessionOptions>()?.Lifetime ?? new CookieSessionOptions().Lifetime;

        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(options =>
            {
                options.Cookie.Name = SessionCookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = lifetime;
                options.SlidingExpiration = true;
                options.LoginPath = "/signin";
                options.LogoutPath = "/signout";
                options.AccessDeniedPath = "/forbidden";
                options.ReturnUrlParameter = "returnUrl";
                options.EventsType = typeof(SessionCookieEvents);
            });
        builder.Services.AddAuthorization();
        builder.Services.AddCascadingAuthenticationState();
    }

    /// <summary>
    /// The keys that encrypt the cookies (and the antiforgery tokens) live in the cache, shared by
    /// every instance and kept across restarts (<see cref="SharedKeyRepository"/>); without a cache, in
    /// <c>DataProtection:KeysDirectory</c> when set (or ASP.NET Core's default, the user profile), so
    /// that a restart does not sign everyone out.
    /// </summary>
    private static void AddDataProtectionKeys(this IHostApplicationBuilder builder)
    {
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("MovieDb.WebApp");
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(SharedCacheExtensions.ConnectionName)))
        {
            builder.Services.AddSingleton<SharedKeyRepository>();
            builder.Services.AddOptions<KeyManagementOptions>().Configure<SharedKeyRepository>((options, keys) => options.XmlRepository = keys);
            builder.Services.AddHealthChecks().AddCheck<SharedKeyRepository.ReadinessCheck>("data-protection-keys");
        }
        else if (builder.Configuration["DataProtection:KeysDirectory"] is { Length: > 0 } directory)
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(directory));
        }
    }

    /// <summary>
    /// The gateway, by service discovery (<c>http://gateway</c> → <c>services:gateway:http:0</c>),
    /// with the caller's token and address. Resilience is the web app's own: only reads are retried
    /// (a repeated POST could add a movie twice), and the gateway's own answers — a 503 while the
    /// broker is down, say — are shown to the person instead of tripping a circuit breaker that would
    /// also stop the calls that still work.
    /// </summary>
    private static void AddGatewayClient(this IHostApplicationBuilder builder)
    {
        var gateway = builder.Configuration.GetRequiredValue("Gateway:BaseAddress");
        builder.Services.AddTransient<AccessTokenHandler>();
        builder.Services.AddTransient<ForwardedForHandler>();
        var client = builder.Services.AddHttpClient<GatewayApi>(client => client.BaseAddress = new Uri(gateway))
            .AddHttpMessageHandler<ForwardedForHandler>()
            .AddHttpMessageHandler<AccessTokenHandler>();
#pragma warning disable EXTEXP0001 // Replaces the handler ServiceDefaults adds to every client; the API is marked experimental.
        client.RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        client.AddStandardResilienceHandler(options =>
        {
            // Transport failures only; then (the order matters: it wraps the predicate) never for POST, PUT or DELETE.
            options.Retry.ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException);
            options.Retry.DisableForUnsafeHttpMethods();
            options.Retry.MaxRetryAttempts = 2;
            options.Retry.Delay = TimeSpan.FromMilliseconds(200);
            options.CircuitBreaker.ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is HttpRequestException);
        });
    }
}
