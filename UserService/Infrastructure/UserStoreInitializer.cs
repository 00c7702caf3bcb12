using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using UserService.Application;
using UserService.Contracts;
using UserService.Model;

namespace UserService.Infrastructure;

/// <summary>
/// At start-up: creates the store's indexes and the bootstrap admin account — or repairs it when its
/// admin role was lost — retrying until the store answers. Readiness (<c>/health</c>) stays unhealthy
/// until it has finished.
/// </summary>
internal sealed partial class UserStoreInitializer(
    IUserStore store,
    Passwords passwords,
    IOptions<AdminOptions> admin,
    TimeProvider time,
    ILogger<UserStoreInitializer> logger) : BackgroundService, IHealthCheck
{
    /// <summary>The registration request id of the bootstrap admin (every account has one; it is unique).</summary>
    public const string BootstrapRequestId = "bootstrap-admin";

    private volatile bool _ready;
    private volatile string? _lastError;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                // WaitAsync: the MongoDB driver finishes server selection (30 s) before it looks at the token.
                await store.InitializeAsync(stoppingToken).WaitAsync(stoppingToken);
                await EnsureBootstrapAdminAsync(stoppingToken);
                _ready = true;
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _lastError = ex.Message;
                logger.LogWarning(ex, "The user store is not ready (attempt {Attempt}); retrying", attempt);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt * 2)), stoppingToken);
            }
        }
    }

    private async Task EnsureBootstrapAdminAsync(CancellationToken cancellationToken)
    {
        var options = admin.Value;
        var normalized = UserRules.NormalizeUserName(options.UserName);
        if (await store.FindByUserNameAsync(normalized, cancellationToken) is { } existing)
        {
            await RepairAsync(existing, cancellationToken);
            return;
        }

        var now = User.Timestamp(time);
        var user = new User
        {
            Id = Guid.CreateVersion7().ToString(),
            UserName = options.UserName,
            NormalizedUserName = normalized,
            UserNameSkeleton = UserRules.Skeleton(options.UserName),
            Email = options.Email,
            NormalizedEmail = UserRules.NormalizeEmail(options.Email),
            PasswordHash = string.Empty,
            Roles = [Role.Admin, Role.User],
            CreatedAt = now,
            UpdatedAt = now,
            RegistrationRequestId = BootstrapRequestId,
            IsBootstrapAdmin = true,
            SecurityStamp = User.NewStamp(),
            // Signs in at once: nobody could open a mail sent to its configured address.
            State = AccountState.Active,
        };
        user.PasswordHash = passwords.Hash(user, options.Password!);

        // Another instance may have created it a moment ago: the unique index keeps one.
        if (await store.InsertAsync(user, cancellationToken) == UserInsertResult.Inserted)
        {
            LogCreated(options.UserName);
        }
    }

    /// <summary>
    /// The bootstrap admin keeps its roles whatever happened to the store (a bad script, a restore):
    /// start-up gives them back, with a new security stamp so that nothing issued meanwhile survives.
    /// </summary>
    private async Task RepairAsync(User bootstrap, CancellationToken cancellationToken)
    {
        while (bootstrap.IsBootstrapAdmin && !(bootstrap.Roles.Contains(Role.Admin) && bootstrap.Roles.Contains(Role.User)))
        {
            var version = bootstrap.Version;
            bootstrap.Roles = [Role.Admin, Role.User];
            bootstrap.SecurityStamp = User.NewStamp();
            bootstrap.UpdatedAt = User.Timestamp(time);
            if (await store.UpdateAsync(bootstrap, version, cancellationToken) != UserUpdateResult.Conflict)
            {
                LogRepaired(bootstrap.UserName);
                return;
            }

            bootstrap = await store.FindByIdAsync(bootstrap.Id, cancellationToken) ?? bootstrap;
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready
            ? HealthCheckResult.Healthy()
            : new HealthCheckResult(context.Registration.FailureStatus, _lastError is null ? "The user store is initialising." : $"The user store is not ready: {_lastError}"));

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the bootstrap admin account '{UserName}'")]
    private partial void LogCreated(string userName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The bootstrap admin account '{UserName}' had lost its roles: restored")]
    private partial void LogRepaired(string userName);
}

/// <summary>Readiness of the user store: it answers a trivial query.</summary>
internal sealed class UserStoreHealthCheck(IUserStore store) : IHealthCheck
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
