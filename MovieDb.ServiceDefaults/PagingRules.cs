namespace MovieDb.ServiceDefaults;

/// <summary>
/// The paging rules of every MovieDb list: pages from 1, page sizes from 1 to
/// <see cref="MaxPageSize"/>, and a page number small enough that the offset it implies can never
/// overflow. One definition, so the gateway, the movie service and the user service answer the same.
/// </summary>
public static class PagingRules
{
    public const int MaxPageSize = 100;

    /// <summary>The largest page number: a million pages of 100 is more than any list here holds.</summary>
    public const int MaxPage = 1_000_000;

    /// <summary>Field errors (<c>page</c>, <c>pageSize</c>) of a paging request; empty when it is valid.</summary>
    public static Dictionary<string, string[]> Check(int page, int pageSize)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (page is < 1 or > MaxPage)
        {
            errors["page"] = [$"The page must be between 1 and {MaxPage}."];
        }

        if (pageSize is < 1 or > MaxPageSize)
        {
            errors["pageSize"] = [$"The page size must be between 1 and {MaxPageSize}."];
        }

        return errors;
    }

    /// <summary>How many items come before <paramref name="page"/>; valid paging never overflows.</summary>
    public static int Offset(int page, int pageSize) => checked((page - 1) * pageSize);
}
