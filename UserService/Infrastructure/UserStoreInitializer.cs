using Microsoft.Extensions.Options;
using UserService.Features.Accounts;
using UserService.Contracts;
using UserService.Model;
using UserService.Settings;

namespace UserService.Infrastructure;

/// <summary>
/// Creates the store's indexes and the bootstrap admin account — or repairs it when its admin role was
/// lost. A start-up task (<c>AddStartupTask</c>): tried again until the store answers, and readiness
/// (<c>/health</c>) stays unhealthy until it has finished.
/// </summary>
internal sealed partial class UserStoreInitializer(
    IUserStore store,
    Passwords passwords,
    IOptions<AdminOptions> admin,
    TimeProvider time,
    ILogger<UserStoreInitializer> logger) : IStartupTask
{
    /// <summary>The registration request id of the bootstrap admin (every account has one; it is unique).</summary>
    public const string BootstrapRequestId = "bootstrap-admin";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // WaitAsync: the MongoDB driver finishes server selection (30 s) before it looks at the token.
        await store.InitializeAsync(cancellationToken).WaitAsync(cancellationToken);
        await EnsureBootstrapAdminAsync(cancellationToken);
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

        // Active at once: nobody could open a mail sent to its configured address.
        var user = User.Create(options.UserName, options.Email, [Role.Admin, Role.User], BootstrapRequestId, AccountState.Active, time);
        user.IsBootstrapAdmin = true;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the bootstrap admin account '{UserName}'")]
    private partial void LogCreated(string userName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The bootstrap admin account '{UserName}' had lost its roles: restored")]
    private partial void LogRepaired(string userName);
}
