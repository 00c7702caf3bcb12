using System.Net.Sockets;
using MailKit;
using MailKit.Net.Smtp;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MimeKit;
using NotificationService.Model;
using Polly;
using Polly.Retry;

namespace NotificationService.Infrastructure;

/// <summary>
/// Hands mails to the SMTP server with MailKit, one connection per mail. Failures that may pass (no
/// connection, a time-out, a dropped connection, a 4xx answer) are tried again with exponential
/// back-off and jitter (<see cref="NotificationOptions.SendAttempts"/>); other failures (a 5xx answer,
/// refused credentials, TLS trouble) are thrown at once. Either way the caller's event is then
/// retried by its subscription and in the end dead-lettered. It also reports, as a health check,
/// whether the last attempt worked.
/// </summary>
internal sealed partial class SmtpMailSender : IHealthCheck
{
    private readonly SmtpSettings _server;
    private readonly IOptions<NotificationOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SmtpMailSender> _logger;
    private readonly ResiliencePipeline _retry;
    private volatile Failure? _lastFailure;

    public SmtpMailSender(SmtpSettings server, IOptions<NotificationOptions> options, TimeProvider time, ILogger<SmtpMailSender> logger)
    {
        _server = server;
        _options = options;
        _time = time;
        _logger = logger;
        var settings = options.Value;
        _retry = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
                MaxRetryAttempts = settings.SendAttempts - 1,
                Delay = settings.RetryDelay,
                MaxDelay = settings.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = retry =>
                {
                    LogRetrying(retry.Outcome.Exception, _server.ToString(), retry.AttemptNumber + 1, settings.SendAttempts, retry.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Sends <paramref name="message"/>; returns once the SMTP server has accepted it.</summary>
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await _retry.ExecuteAsync(async token => await SendOnceAsync(message, token), cancellationToken);
            _lastFailure = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _lastFailure = new Failure(_time.GetUtcNow(), ex.Message);
            throw;
        }
    }

    private async Task SendOnceAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        using var client = new SmtpClient { Timeout = (int)_options.Value.SmtpTimeout.TotalMilliseconds };
        await client.ConnectAsync(_server.Host, _server.Port, _server.Security, cancellationToken);
        if (_server is { UserName: { } user, Password: { } password })
        {
            await client.AuthenticateAsync(user, password, cancellationToken);
        }

        await client.SendAsync(message, cancellationToken);
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Accepted is accepted: a failed goodbye must not send the mail again.
            LogQuitFailed(ex.Message);
        }
    }

    /// <summary>Failures that may pass if the same mail is tried again a little later.</summary>
    internal static bool IsTransient(Exception exception) => exception switch
    {
        SmtpCommandException command => (int)command.StatusCode is >= 400 and < 500,
        SmtpProtocolException or ServiceNotConnectedException or SocketException or IOException or TimeoutException => true,
        // MailKit's own time-out (SmtpClient.Timeout) surfaces as a cancellation nobody asked for.
        OperationCanceledException => true,
        _ => false,
    };

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_lastFailure is { } failure
            ? new HealthCheckResult(context.Registration.FailureStatus, $"The last mail to {_server} failed at {failure.At:u}: {failure.Error}")
            : HealthCheckResult.Healthy());

    private sealed record Failure(DateTimeOffset At, string Error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending through {Server} failed (attempt {Attempt} of {Attempts}); trying again in {DelaySeconds:0.0} s")]
    private partial void LogRetrying(Exception? exception, string server, int attempt, int attempts, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The SMTP server accepted the mail but the goodbye failed: {Error}")]
    private partial void LogQuitFailed(string error);
}
