namespace UserService.Model;

public static class SessionFamilyStatus
{
    public const string Active = "active";

    /// <summary>Signed out, or a token of it was presented twice.</summary>
    public const string Revoked = "revoked";
}
