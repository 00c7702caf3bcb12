using Microsoft.Extensions.Options;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Features.Activation;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Features.AccountChanges;

/// <summary>
/// <c>users.update</c>: a change of an existing account on behalf of a caller (e-mail, password,
/// roles), idempotent by request id: one conditional write that also records it
/// (<see cref="AccountAccess.ChangeAsync"/>).
/// </summary>
internal sealed class AccountChangeRequests(
    IUserStore store,
    AccountAccess accounts,
    CommandInbox inbox,
    ActivationLinks links,
    Passwords passwords,
    IOptions<AccountOptions> options)
    : IRequestHandler<UpdateUser, UserDto>
{
    public Task<Reply<UserDto>> HandleAsync(UpdateUser request, RequestContext context, CancellationToken cancellationToken) =>
        inbox.RunOnceAsync(context.RequestId, request, request.Actor, () => UpdateAsync(context.RequestId, request, cancellationToken), cancellationToken);

    internal async Task<Reply<UserDto>> UpdateAsync(string requestId, UpdateUser command, CancellationToken cancellationToken)
    {
        // A redelivery of a change that took effect: the caller was authorised then, and the change
        // itself may have ended the stamp it came with (a new password).
        if (await accounts.AppliedAsync(command.UserId, command.Actor, requestId, cancellationToken) is { } applied)
        {
            await accounts.PublishSecurityChangeAsync(applied, cancellationToken);
            return await links.RepublishEmailChangeAsync(applied, requestId, cancellationToken);
        }

        var (caller, refused) = await accounts.CallerAsync<UserDto>(command.Actor, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        if (caller!.Id != command.UserId && !caller.IsAdmin)
        {
            return Replies.Forbidden<UserDto>("Only an admin may change another account.");
        }

        string? confirmation = null;
        return await accounts.ChangeAsync(command.UserId, caller.Id, requestId, async user =>
        {
            confirmation = null;
            var (refusal, token) = await ApplyUpdateAsync(caller!, user, command, requestId, cancellationToken);
            confirmation = token;
            return refusal;
        }, async user =>
        {
            await accounts.PublishSecurityChangeAsync(user, cancellationToken);
            if (confirmation is not null)
            {
                await links.PublishEmailChangeAsync(user, confirmation, cancellationToken);
            }

            return Reply<UserDto>.Ok(user.ToDto());
        }, cancellationToken);
    }

    /// <summary>
    /// Checks and applies an update; returns the refusal, or null and — when the account's own new
    /// e-mail address waits for confirmation — the token of the link to mail to it.
    /// </summary>
    private async Task<(Reply<UserDto>? Refusal, string? ConfirmationToken)> ApplyUpdateAsync(User caller, User user, UpdateUser command, string requestId, CancellationToken cancellationToken)
    {
        if (await CheckUpdateAsync(caller, user, command, cancellationToken) is { } refused)
        {
            return (refused, null);
        }

        string? token = null;
        if (MustConfirmEmail(caller, user, command))
        {
            if (links.TooSoon(user, requestId))
            {
                return (Reply<UserDto>.Fail(ReplyStatus.Invalid, "Invalid update", "One or more fields are invalid.", new Dictionary<string, string[]>
                {
                    ["email"] = ["A confirmation link was sent to an address of this account a moment ago; try again in a few minutes."],
                }), null);
            }

            user.PendingEmail = command.Email;
            token = links.Issue(user, requestId);
            command = command with { Email = null };
        }

        var roles = command.Roles?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Apply(caller, user, command, roles);
        return (null, token);
    }

    /// <summary>
    /// Whether the new e-mail address of this update must be confirmed through a link mailed to it
    /// first: the account's own change, where addresses are proven (<see cref="AccountOptions.RequireActivation"/>).
    /// An admin's change of another account's address takes effect at once: the admin vouches for it.
    /// </summary>
    private bool MustConfirmEmail(User caller, User user, UpdateUser command) =>
        command.Email is not null
        && caller.Id == user.Id
        && options.Value.RequireActivation
        && !string.Equals(UserRules.NormalizeEmail(command.Email), user.NormalizedEmail, StringComparison.Ordinal);

    /// <summary>The refusal of an update that may not or cannot be made, or null.</summary>
    private async Task<Reply<UserDto>?> CheckUpdateAsync(User caller, User user, UpdateUser command, CancellationToken cancellationToken)
    {
        if (RefuseUpdate(caller, user, command) is { } refused)
        {
            return refused;
        }

        if (UpdateErrors(self: caller.Id == user.Id, user, command) is { Count: > 0 } errors)
        {
            return Reply<UserDto>.Fail(ReplyStatus.Invalid, "Invalid update", "One or more fields are invalid.", errors);
        }

        var roles = command.Roles?.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var demoted = roles is not null && user.IsAdmin && !roles.Contains(Role.Admin);
        if (demoted && user.IsBootstrapAdmin)
        {
            return Replies.Forbidden<UserDto>("The bootstrap admin keeps the admin role.");
        }

        return demoted && await store.CountAdminsAsync(cancellationToken) <= 1
            ? Reply<UserDto>.Fail(ReplyStatus.Conflict, "Last admin", "The last admin cannot be demoted.")
            : null;
    }

    /// <summary>Whether <paramref name="caller"/> may make this change of <paramref name="user"/> at all.</summary>
    private static Reply<UserDto>? RefuseUpdate(User caller, User user, UpdateUser command)
    {
        var self = caller.Id == user.Id;
        if (!self && !caller.IsAdmin)
        {
            return Replies.Forbidden<UserDto>("Only an admin may change another account.");
        }

        if (command.Roles is not null && !caller.IsAdmin)
        {
            return Replies.Forbidden<UserDto>("Only an admin may change roles.");
        }

        // Admins are protected from each other: only the account itself changes what signs it in —
        // also after a demotion, or an admin could demote another, reset its password and promote it back.
        return !self && user.CredentialsSelfManaged && (command.Email is not null || command.NewPassword is not null)
            ? Replies.Forbidden<UserDto>("Only the account itself may change the e-mail address or password of an account that is or was an admin.")
            : null;
    }

    /// <summary>The field errors of an update, empty when it is valid.</summary>
    private Dictionary<string, string[]> UpdateErrors(bool self, User user, UpdateUser command)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (command.Email is not null)
        {
            UserRules.Add(errors, "email", UserRules.CheckEmail(command.Email));
        }

        if (command.NewPassword is not null)
        {
            UserRules.Add(errors, "newPassword", UserRules.CheckPassword(command.NewPassword));
        }

        // Your own e-mail address and password are changed with the current password (an admin
        // resetting another user's does not need theirs).
        if (self && (command.Email is not null || command.NewPassword is not null)
            && (command.CurrentPassword is null || command.CurrentPassword.Length > UserRules.PasswordMaxLength || !passwords.Verify(user, command.CurrentPassword).Valid))
        {
            errors["currentPassword"] = ["The current password is wrong."];
        }

        if (command.Roles is not null)
        {
            UserRules.Add(errors, "roles", UserRules.CheckRoles(command.Roles));
        }

        return errors;
    }

    /// <summary>Applies a checked update; a new password or new roles end every session (a new stamp).</summary>
    private void Apply(User caller, User user, UpdateUser command, List<string>? roles)
    {
        if (command.Email is not null)
        {
            // Set directly (an admin's change, or the address it has): any address waiting for confirmation is dropped.
            user.Email = command.Email;
            user.NormalizedEmail = UserRules.NormalizeEmail(command.Email);
            user.PendingEmail = null;
            user.ForgetPasswordResetLink();

            // An address the account did not prove itself: no reset link goes there once the account
            // is or was an admin (one admin must not hold another's way back in).
            user.EmailSetByAdmin = caller.Id != user.Id;
        }

        var securityChanged = false;
        if (command.NewPassword is not null)
        {
            user.PasswordHash = passwords.Hash(user, command.NewPassword);
            user.ForgetPasswordResetLink();
            user.DropPendingEmail();
            securityChanged = true;
        }

        if (roles is not null && !roles.SequenceEqual(user.Roles.Order(StringComparer.Ordinal), StringComparer.Ordinal))
        {
            user.Roles = roles;
            user.HasBeenAdmin |= user.IsAdmin;
            user.ForgetPasswordResetLink();
            securityChanged = true;
        }

        if (securityChanged)
        {
            // Every session and access token of the account ends with the old stamp.
            user.SecurityStamp = User.NewStamp();
        }
    }
}
