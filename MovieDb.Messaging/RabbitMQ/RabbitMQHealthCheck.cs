using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MovieDb.Messaging.RabbitMQ;

/// <summary>Healthy while the broker connection is open.</summary>
internal sealed class RabbitMQHealthCheck(RabbitMQConnectionState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var connection = state.Connection;
        if (connection is null)
        {
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                state.LastError is null ? "Not connected to RabbitMQ yet." : $"Cannot connect to RabbitMQ: {state.LastError}"));
        }

        if (!connection.IsOpen)
        {
            return Task.FromResult(new HealthCheckResult(
                context.Registration.FailureStatus,
                $"The RabbitMQ connection is closed ({connection.CloseReason?.ReplyText ?? "unknown reason"}); automatic recovery is retrying."));
        }

        return Task.FromResult(HealthCheckResult.Healthy());
    }
}
