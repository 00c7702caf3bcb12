using Gateway.Auth;
using Gateway.Limits;
using MovieDb.Messaging.Client;

namespace Gateway.Apis;

/// <summary>What the gateway's handlers need, bound with <c>[AsParameters]</c>.</summary>
public sealed class GatewayServices(IRequestClient requests, AccessTokens tokens, UserSecurityCache security, SignInThrottle signIns, PasswordChangeLimiter passwordChanges, DeviceTokens devices, HttpContext httpContext)
{
    public IRequestClient Requests { get; } = requests;

    public AccessTokens Tokens { get; } = tokens;

    public UserSecurityCache Security { get; } = security;

    public SignInThrottle SignIns { get; } = signIns;

    public PasswordChangeLimiter PasswordChanges { get; } = passwordChanges;

    public DeviceTokens Devices { get; } = devices;

    public HttpContext HttpContext { get; } = httpContext;
}
