namespace MovieDb.Messaging.RabbitMQ;

/// <summary>
/// Settings of the RabbitMQ client registration, bound from <c>Aspire:RabbitMQ:Client</c> and then
/// <c>Aspire:RabbitMQ:Client:{connectionName}</c>, with the same names and meaning as the Aspire
/// integration's <c>RabbitMQClientSettings</c>. <c>ConnectionStrings:{connectionName}</c> wins over
/// <see cref="ConnectionString"/>.
/// </summary>
public sealed class RabbitMQClientSettings
{
    /// <summary>An <c>amqp://</c> or <c>amqps://</c> URI, e.g. <c>amqp://guest:guest@localhost:5672</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How many times the first connection is retried (exponential back-off from 1 s). Default 5.</summary>
    public int MaxConnectRetryCount { get; set; } = 5;

    /// <summary>Leaves out the <c>RabbitMQ.Client</c> health check.</summary>
    public bool DisableHealthChecks { get; set; }

    /// <summary>Leaves out the RabbitMQ and MovieDb.Messaging trace sources.</summary>
    public bool DisableTracing { get; set; }

    /// <summary>
    /// When false, the connection is opened while the host starts (start-up fails if the broker
    /// stays unreachable). When true (the default) it is opened by the first component that needs it.
    /// </summary>
    public bool DisableAutoActivation { get; set; } = true;
}
