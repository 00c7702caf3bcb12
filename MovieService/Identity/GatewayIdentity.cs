using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace MovieService.Identity;

/// <summary>
/// Who calls: the bearer token the gateway signs for each request it forwards (the caller's id,
/// name and current roles, valid for two minutes, HS256 with a key only the gateway and this service
/// hold). Anything else — no token, a user's own access token, hand-made <c>X-User-*</c> headers — is
/// no identity at all: 401.
/// </summary>
internal static class GatewayIdentity
{
    public const string Subject = "sub";
    public const string Name = "unique_name";
    public const string Role = "role";
    public const string AdminRole = "admin";

    public static void AddGatewayIdentity(this IHostApplicationBuilder builder)
    {
        var key = SigningKeys.Read(builder, $"{GatewayIdentityOptions.SectionName}:SigningKey", "the caller identity the gateway forwards (the gateway must hold the same key)", generateInDevelopment: false);
        builder.Services.AddOptions<GatewayIdentityOptions>().BindConfiguration(GatewayIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(GatewayIdentityOptions.SectionName).Get<GatewayIdentityOptions>() ?? new GatewayIdentityOptions();

        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<TimeProvider>((bearer, time) =>
        {
            bearer.MapInboundClaims = false;
            // The gateway reuses an identity token for a minute: its signature is checked once.
            bearer.TokenHandlers.Clear();
            bearer.TokenHandlers.Add(new CachingJsonWebTokenHandler(time) { MapInboundClaims = false });
            bearer.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = options.Issuer,
                ValidAudience = options.Audience,
                IssuerSigningKey = new SymmetricSecurityKey(key),
                ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = TimeSpan.FromSeconds(30),
                NameClaimType = Name,
                RoleClaimType = Role,
            };
            bearer.Events = new JwtBearerEvents
            {
                OnChallenge = context =>
                {
                    context.HandleResponse();
                    return WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized, "Unauthorized", "No caller identity: this service is reached through the gateway.");
                },
                OnForbidden = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden", "The caller may not do this."),
            };
        });

        // Every endpoint but the health checks and the OpenAPI document needs a caller.
        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build());
    }

    private static async Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    /// <summary>The caller's user id.</summary>
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(Subject) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(AdminRole);
}
