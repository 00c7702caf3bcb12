using System.Text.Json.Serialization;

namespace WebApp.Model;

// The gateway's JSON shapes (DESIGN.md) that no service contract defines: the movies' come from
// MovieService.Contracts, the movie service's public contract, with the limits of their fields.

public sealed record ApiPage<T>(IReadOnlyList<T> Items, int Page, int PageSize, long TotalCount)
{
    public int PageCount => TotalCount == 0 ? 1 : (int)((TotalCount + PageSize - 1) / PageSize);
}

public sealed record UserDto(string Id, string UserName, string Email, IReadOnlyList<string> Roles, DateTimeOffset CreatedAt)
{
    public bool IsAdmin => Roles.Contains(MovieDbRoles.Admin, StringComparer.Ordinal);
}

public sealed record TokenPair(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken);

public sealed record RegistrationStatus(string Status, UserDto? User, RegistrationProblem? Problem)
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

public sealed record RegistrationProblem(int Status, string Title, string? Detail, IReadOnlyDictionary<string, string[]>? Errors);

/// <summary>Body of <c>PUT /api/users/{id}</c>: only the fields given change (nulls are left out of the JSON).</summary>
public sealed record UpdateUserRequest(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Email = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Password = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CurrentPassword = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Roles = null);

public static class MovieDbRoles
{
    public const string Admin = "admin";
    public const string User = "user";
    public static readonly IReadOnlyList<string> All = [User, Admin];
}

/// <summary>
/// An RFC 9457 problem from the gateway (or made up here when the gateway could not be reached):
/// what a page needs to explain it — never an exception or a stack trace.
/// </summary>
public sealed record ApiProblem(int Status, string? Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors, string? TraceId)
{
    public static ApiProblem Unreachable { get; } = new(503, "MovieDb unavailable", "MovieDb cannot be reached right now.", new Dictionary<string, string[]>(), null);

    /// <summary>The messages for one field (the API names fields in camelCase, like the JSON).</summary>
    public IReadOnlyList<string> For(string field) =>
        Errors.TryGetValue(field, out var messages) ? messages : [];

    /// <summary>The gateway, a service behind it or the broker is away: worth trying again later.</summary>
    public bool IsUnavailable => Status is 502 or 503 or 504;

    /// <summary>
    /// The movie service lost its database connection while saving a change: whether the change was
    /// made is unknown (its 503 has this title; MovieService's DatabaseUnavailableHandler).
    /// </summary>
    public bool IsUnconfirmedChange => Status == 503 && Title == ChangeNotConfirmedTitle;

    public const string ChangeNotConfirmedTitle = "Change not confirmed";
}

/// <summary>What a call to the gateway gave: a value (with its ETag, Location or device token) or a problem.</summary>
public sealed record ApiResult<T>(int Status, T? Value, ApiProblem? Problem, string? ETag = null, string? Location = null, string? DeviceToken = null)
{
    public bool IsOk => Problem is null;
}

public static class ApiResult
{
    public static ApiResult<T> Failed<T>(ApiProblem problem) => new(problem.Status, default, problem);
}
