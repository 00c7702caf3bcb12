namespace UserService.Infrastructure;

/// <summary>Result of updating a user.</summary>
public enum UserUpdateResult
{
    Updated,
    NotFound,

    /// <summary>The new e-mail address belongs to another account.</summary>
    Duplicate,

    /// <summary>Someone else stored a change since the account was read: read it again and retry.</summary>
    Conflict,
}
