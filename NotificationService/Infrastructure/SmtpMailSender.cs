using MailKit.Net.Smtp;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MimeKit;
using NotificationService.Model;
using NotificationService.Settings;
using Polly;
using Polly.Retry;

namespace NotificationService.Infrastructure;

/// <summary>
/// Hands mails to the SMTP server with MailKit, one connection per mail. A failure of the server as a
/// whole (no connection, a time-out, a dropped connection, TLS or sign-in refused, a 4xx answer) says
/// nothing about the mail: it is tried again with exponential back-off and jitter for up to
/// <see cref="NotificationOptions.RetryWindow"/>, then the caller's event is retried by its
/// subscription. A mail the server refuses for good — a 5xx answer to its sender, a recipient or its
/// content — throws <see cref="MailRefusedException"/> at once: sending it again cannot help. It also
/// reports, as a health check, whether the last attempt worked (Degraded from the first failed attempt).
/// </summary>
internal sealed partial class SmtpMailSender : IHealthCheck
{
    private static readonly ResiliencePropertyKey<long> StartedAt = new("smtp.started-at");

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
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex
                    && !args.Context.CancellationToken.IsCancellationRequested
                    && !IsRefusalOfThisMail(ex)
                    && _time.GetElapsedTime(args.Context.Properties.GetValue(StartedAt, 0L)) < settings.RetryWindow),
                MaxRetryAttempts = int.MaxValue,
                Delay = settings.RetryDelay,
                MaxDelay = settings.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = retry =>
                {
                    // Readiness says so at once, not only when this delivery gives up.
                    _lastFailure = new Failure(_time.GetUtcNow(), retry.Outcome.Exception?.Message ?? "failed");
                    LogRetrying(retry.Outcome.Exception, _server.ToString(), retry.AttemptNumber + 1, retry.RetryDelay.TotalSeconds);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Sends <paramref name="message"/>; returns once the SMTP server has accepted it.</summary>
    /// <exception cref="MailRefusedException">The server refused this mail for good.</exception>
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(StartedAt, _time.GetTimestamp());
        try
        {
            await _retry.ExecuteAsync(static async (context, state) => await state.Sender.SendOnceAsync(state.Message, context.CancellationToken), context, (Sender: this, Message: message));
            _lastFailure = null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _lastFailure = new Failure(_time.GetUtcNow(), ex.Message);
            if (IsRefusalOfThisMail(ex))
            {
                throw new MailRefusedException($"{_server} refused the mail for good: {ex.Message}", ex);
            }

            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
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

    /// <summary>
    /// Whether the server refused this very mail for good: a 5xx answer to its sender (MAIL FROM), a
    /// recipient (RCPT TO) or its content (DATA). Everything else — connecting, TLS, signing in, other
    /// commands, 4xx answers, time-outs — is the server's trouble, not the mail's, and may pass.
    /// </summary>
    internal static bool IsRefusalOfThisMail(Exception exception) =>
        exception is SmtpCommandException { ErrorCode: SmtpErrorCode.SenderNotAccepted or SmtpErrorCode.RecipientNotAccepted or SmtpErrorCode.MessageNotAccepted } command
        && (int)command.StatusCode is >= 500 and < 600;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_lastFailure is { } failure
            ? new HealthCheckResult(context.Registration.FailureStatus, $"The last mail to {_server} failed at {failure.At:u}: {failure.Error}")
            : HealthCheckResult.Healthy());

    private sealed record Failure(DateTimeOffset At, string Error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sending through {Server} failed (attempt {Attempt}); trying again in {DelaySeconds:0.0} s")]
    private partial void LogRetrying(Exception? exception, string server, int attempt, double delaySeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The SMTP server accepted the mail but the goodbye failed: {Error}")]
    private partial void LogQuitFailed(string error);
}

/// <summary>The SMTP server refused a mail for good (a 5xx answer to its sender, a recipient or its content).</summary>
internal sealed class MailRefusedException(string message, Exception inner) : Exception(message, inner);
