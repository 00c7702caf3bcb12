using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WebApp.Services;

/// <summary>
/// Readiness of the web app includes reaching the gateway (through service discovery, like every
/// call). Registered as Degraded on failure: without the gateway the pages still answer, and say so.
/// </summary>
internal sealed class GatewayHealthCheck(GatewayApi api) : IHealthCheck
{
    public const string Name = "gateway";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        return await api.IsAliveAsync(timeout.Token)
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, "The gateway cannot be reached.");
    }
}
