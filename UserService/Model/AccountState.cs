namespace UserService.Model;

/// <summary>The states of an account.</summary>
public static class AccountState
{
    /// <summary>Registered; cannot sign in until the link mailed to it is used.</summary>
    public const string Pending = "pending";

    /// <summary>May sign in.</summary>
    public const string Active = "active";
}
