using System.ComponentModel;
using UserService.Contracts;

namespace Gateway.Model;

/// <summary>Body of <c>POST /api/auth/register</c>.</summary>
public sealed record RegisterRequest(string? UserName, string? Email, string? Password);

/// <summary>Body of <c>POST /api/auth/login</c>.</summary>
public sealed record LoginRequest(string? UserName, string? Password);

/// <summary>Body of <c>POST /api/auth/activate</c>: the token from the activation link.</summary>
public sealed record ActivateRequest([property: Description("The token parameter of the link in the activation e-mail")] string? Token);

/// <summary>Body of <c>POST /api/auth/activation-email</c> and <c>POST /api/auth/password-reset</c>: the account, by user name or by e-mail address (one of them).</summary>
public sealed record AccountNameRequest(
    [property: Description("The user name of the account")] string? UserName,
    [property: Description("Or its e-mail address")] string? Email);

/// <summary>Body of <c>POST /api/auth/password-reset/confirm</c>: the token from the mailed link and the new password.</summary>
public sealed record PasswordResetConfirmRequest(
    [property: Description("The token parameter of the link in the password-reset e-mail")] string? Token,
    [property: Description("The new password (8 to 128 characters)")] string? NewPassword);

/// <summary>Body of <c>POST /api/auth/refresh</c> and <c>POST /api/auth/logout</c>.</summary>
public sealed record RefreshRequest(string? RefreshToken);

/// <summary>An access token and the refresh token that renews it.</summary>
public sealed record TokenPair(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken);

/// <summary>A command the broker has accepted but the user service has not answered yet: it will be processed.</summary>
public sealed record CommandAccepted(string RequestId, string Status);

/// <summary>The outcome of a command: <c>pending</c>, <c>succeeded</c> (with the account, when it answers with one) or <c>failed</c> (with the problem).</summary>
public sealed record CommandStatusResponse(string Status, UserDto? User, CommandProblem? Problem);

/// <summary>Why a command failed, as problem details fields.</summary>
public sealed record CommandProblem(int Status, string Title, string? Detail, IReadOnlyDictionary<string, string[]>? Errors);

/// <summary>Body of <c>PUT /api/users/{id}</c>: only the fields given change.</summary>
public sealed record UpdateUserRequest(
    [property: Description("A new e-mail address")] string? Email,
    [property: Description("A new password (8 to 128 characters)")] string? Password,
    [property: Description("The current password: required to change your own password")] string? CurrentPassword,
    [property: Description("Admins only: the new set of roles")] IReadOnlyList<string>? Roles);
