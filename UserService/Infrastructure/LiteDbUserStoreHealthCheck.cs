using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace UserService.Infrastructure;

/// <summary>Readiness of the embedded user store: it answers a trivial query.</summary>
internal sealed class LiteDbUserStoreHealthCheck(LiteDbUserStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The user store does not answer.", ex);
        }
    }
}
