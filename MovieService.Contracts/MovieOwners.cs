namespace MovieService.Contracts;

/// <summary>What the movie list's <c>owner</c> parameter takes besides an account id (admins only).</summary>
public static class MovieOwners
{
    /// <summary>Everyone's movies.</summary>
    public const string All = "all";
}
