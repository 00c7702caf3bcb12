namespace UserService.Model;

public static class RefreshTokenStatus
{
    /// <summary>May be used once.</summary>
    public const string Active = "active";

    /// <summary>Rotated: presenting it again is reuse.</summary>
    public const string Used = "used";
}
