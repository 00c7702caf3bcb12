namespace UserService.Infrastructure;

/// <summary>Result of inserting a user.</summary>
public enum UserInsertResult
{
    Inserted,

    /// <summary>A unique value (user name, its skeleton, e-mail or registration request id) is taken.</summary>
    Duplicate,
}
