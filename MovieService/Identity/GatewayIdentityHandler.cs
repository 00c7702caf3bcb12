using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace MovieService.Identity;

/// <summary>
/// Authenticates requests by the identity headers the gateway sets: <c>X-User-Id</c>,
/// <c>X-User-Name</c> and <c>X-User-Roles</c> (comma-separated).
/// </summary>
/// <remarks>
/// The movie service is internal: only the gateway can reach it (no external endpoint in the
/// AppHost, Container Apps ingress internal). The gateway removes every <c>X-User-*</c> header a
/// client sends and sets these from the access token it validated, so here they are trustworthy —
/// and only here. Never expose this service directly.
/// </remarks>
internal sealed class GatewayIdentityHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problemDetails)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Gateway";
    public const string UserIdHeader = "X-User-Id";
    public const string UserNameHeader = "X-User-Name";
    public const string UserRolesHeader = "X-User-Roles";
    private const int MaxValueLength = 256;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var id = Request.Headers[UserIdHeader].ToString();
        if (string.IsNullOrEmpty(id))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // The gateway percent-encodes the name: header values are ASCII, user names need not be.
        var name = Uri.UnescapeDataString(Request.Headers[UserNameHeader].ToString());
        var roles = Request.Headers[UserRolesHeader].ToString();
        if (id.Length > 64 || name.Length > MaxValueLength || roles.Length > MaxValueLength || Request.Headers[UserIdHeader].Count > 1)
        {
            return Task.FromResult(AuthenticateResult.Fail("Malformed identity headers."));
        }

        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, id) };
        if (name.Length > 0)
        {
            claims.Add(new Claim(ClaimTypes.Name, name));
        }

        foreach (var role in roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        var identity = new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized", "No caller identity: this service is reached through the gateway.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "The caller may not do this.");

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problemDetails.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}

internal static class CallerExtensions
{
    public const string AdminRole = "admin";

    /// <summary>The caller's user id (set by <see cref="GatewayIdentityHandler"/>).</summary>
    public static string UserId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(AdminRole);
}
