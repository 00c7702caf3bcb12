using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Polly.CircuitBreaker;
using Polly.Timeout;
using WebApp.Auth;

namespace WebApp.Services;

/// <summary>
/// The gateway's public API, as the web app uses it. Every method answers with an
/// <see cref="ApiResult{T}"/>: the value, or the problem the gateway described (or "unreachable"),
/// so pages explain failures instead of throwing. The access token and the browser's address are
/// added by message handlers (<c>Auth/AccessTokenHandler</c>, <c>Extensions/ForwardedForHandler</c>).
/// </summary>
public sealed class GatewayApi(HttpClient http, DeviceCookies devices, IHttpContextAccessor accessor, ILogger<GatewayApi> logger)
{
    /// <summary>The gateway's device token header (its <c>DeviceTokens.Header</c>).</summary>
    public const string DeviceTokenHeader = "Device-Token";

    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>True when the gateway answers its liveness probe.</summary>
    public async Task<bool> IsAliveAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync("/alive", cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or OperationCanceledException)
        {
            return false;
        }
    }

    // Auth

    /// <summary>201 with the user; 202 with <c>Location</c> when queued; 400/409/503 as problems.</summary>
    public Task<ApiResult<UserDto>> RegisterAsync(string userName, string email, string password, string idempotencyKey, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register") { Content = JsonContent.Create(new { userName, email, password }) };
        request.Headers.Add(IdempotencyKeyHeader, idempotencyKey);
        return SendAsync<UserDto>(request, cancellationToken);
    }

    public Task<ApiResult<RegistrationStatus>> GetRegistrationAsync(string requestId, CancellationToken cancellationToken) =>
        SendAsync<RegistrationStatus>(new HttpRequestMessage(HttpMethod.Get, $"/api/auth/registrations/{Uri.EscapeDataString(requestId)}"), cancellationToken);

    /// <summary>Signs in with this browser's device token for the account, and keeps the new one the gateway gives.</summary>
    public async Task<ApiResult<TokenPair>> LoginAsync(string userName, string password, CancellationToken cancellationToken)
    {
        var request = WithDeviceToken(Post("/api/auth/login", new { userName, password }), userName);
        var result = await SendAsync<TokenPair>(request, cancellationToken);
        if (result is { IsOk: true, DeviceToken: { } token })
        {
            devices.Remember(userName, token);
        }

        return result;
    }

    public Task<ApiResult<TokenPair>> RefreshAsync(string refreshToken, CancellationToken cancellationToken) =>
        SendAsync<TokenPair>(Post("/api/auth/refresh", new { refreshToken }), cancellationToken);

    public Task<ApiResult<bool>> LogoutAsync(string accessToken, string refreshToken, CancellationToken cancellationToken)
    {
        var request = Post("/api/auth/logout", new { refreshToken });
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return SendAsync<bool>(request, cancellationToken);
    }

    /// <summary>Account activation (DESIGN.md "Accounts and activation"): 200, or 400 for an expired or unknown token.</summary>
    public Task<ApiResult<bool>> ActivateAsync(string token, CancellationToken cancellationToken) =>
        SendAsync<bool>(Post("/api/auth/activate", new { token }), cancellationToken);

    /// <summary>Sends the activation link again; the gateway always answers 202 (it reveals no account).</summary>
    public Task<ApiResult<bool>> SendActivationEmailAsync(string userNameOrEmail, CancellationToken cancellationToken) =>
        SendAsync<bool>(PostAccountName("/api/auth/activation-email", userNameOrEmail), cancellationToken);

    /// <summary>Asks for a password-reset link; the gateway always answers 202 (it reveals no account).</summary>
    public Task<ApiResult<bool>> RequestPasswordResetAsync(string userNameOrEmail, CancellationToken cancellationToken) =>
        SendAsync<bool>(PostAccountName("/api/auth/password-reset", userNameOrEmail), cancellationToken);

    /// <summary>A body that names an account as a person typed it: an e-mail address when it has an '@', otherwise a user name.</summary>
    private static HttpRequestMessage PostAccountName(string path, string userNameOrEmail) =>
        userNameOrEmail.Contains('@', StringComparison.Ordinal)
            ? Post(path, new { email = userNameOrEmail })
            : Post(path, new { userName = userNameOrEmail });

    /// <summary>Sets a new password with the token of a reset link: 200, 202 when queued, 400 for a dead link or a bad password.</summary>
    public Task<ApiResult<bool>> ResetPasswordAsync(string token, string newPassword, CancellationToken cancellationToken) =>
        SendAsync<bool>(Post("/api/auth/password-reset/confirm", new { token, newPassword }), cancellationToken);

    // Users

    public Task<ApiResult<UserDto>> GetMeAsync(CancellationToken cancellationToken) =>
        SendAsync<UserDto>(new HttpRequestMessage(HttpMethod.Get, "/api/users/me"), cancellationToken);

    public Task<ApiResult<UserDto>> GetUserAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<UserDto>(new HttpRequestMessage(HttpMethod.Get, $"/api/users/{Uri.EscapeDataString(id)}"), cancellationToken);

    public Task<ApiResult<ApiPage<UserDto>>> ListUsersAsync(int page, int pageSize, CancellationToken cancellationToken) =>
        SendAsync<ApiPage<UserDto>>(new HttpRequestMessage(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/api/users?page={page}&pageSize={pageSize}")), cancellationToken);

    /// <summary>A change with the current password is checked like a sign-in: it carries this browser's device token.</summary>
    public Task<ApiResult<UserDto>> UpdateUserAsync(string id, UpdateUserRequest body, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/users/{Uri.EscapeDataString(id)}") { Content = JsonContent.Create(body, options: Json) };
        if (body.CurrentPassword is not null && accessor.HttpContext?.User.Identity?.Name is { } userName)
        {
            WithDeviceToken(request, userName);
        }

        return SendAsync<UserDto>(request, cancellationToken);
    }

    /// <summary>Ends every session and access token of the account (200/204, or 202 when queued).</summary>
    public Task<ApiResult<bool>> RevokeAllSessionsAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<bool>(new HttpRequestMessage(HttpMethod.Delete, $"/api/users/{Uri.EscapeDataString(id)}/sessions"), cancellationToken);

    public Task<ApiResult<bool>> DeleteUserAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<bool>(new HttpRequestMessage(HttpMethod.Delete, $"/api/users/{Uri.EscapeDataString(id)}"), cancellationToken);

    // Movies

    public Task<ApiResult<ApiPage<MovieDto>>> ListMoviesAsync(MovieQuery query, CancellationToken cancellationToken) =>
        SendAsync<ApiPage<MovieDto>>(new HttpRequestMessage(HttpMethod.Get, "/api/movies" + query.ToApiQueryString()), cancellationToken);

    public Task<ApiResult<MovieDto>> GetMovieAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<MovieDto>(new HttpRequestMessage(HttpMethod.Get, $"/api/movies/{Uri.EscapeDataString(id)}"), cancellationToken);

    public Task<ApiResult<MovieDto>> CreateMovieAsync(MovieInput input, CancellationToken cancellationToken) =>
        SendAsync<MovieDto>(Post("/api/movies", input), cancellationToken);

    /// <summary>Replaces a movie if it is still at <paramref name="etag"/>; a 412 problem when it changed meanwhile.</summary>
    public Task<ApiResult<MovieDto>> UpdateMovieAsync(string id, MovieInput input, string etag, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/movies/{Uri.EscapeDataString(id)}") { Content = JsonContent.Create(input, options: Json) };
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        return SendAsync<MovieDto>(request, cancellationToken);
    }

    public Task<ApiResult<bool>> DeleteMovieAsync(string id, CancellationToken cancellationToken) =>
        SendAsync<bool>(new HttpRequestMessage(HttpMethod.Delete, $"/api/movies/{Uri.EscapeDataString(id)}"), cancellationToken);

    private static HttpRequestMessage Post<TBody>(string path, TBody body) =>
        new(HttpMethod.Post, path) { Content = JsonContent.Create(body, options: Json) };

    private HttpRequestMessage WithDeviceToken(HttpRequestMessage request, string userName)
    {
        if (devices.Get(userName) is { } token)
        {
            request.Headers.TryAddWithoutValidation(DeviceTokenHeader, token);
        }

        return request;
    }

    private async Task<ApiResult<T>> SendAsync<T>(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using (request)
        {
            try
            {
                using var response = await http.SendAsync(request, cancellationToken);
                var etag = response.Headers.ETag?.ToString();
                var location = response.Headers.Location?.OriginalString;
                if (!response.IsSuccessStatusCode)
                {
                    return ApiResult.Failed<T>(await ReadProblemAsync(response, cancellationToken));
                }

                // 202 (queued), 204 and bodies the caller does not need carry no value to read.
                T? value = default;
                if (typeof(T) == typeof(bool))
                {
                    value = (T)(object)true;
                }
                else if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.NoContent))
                {
                    value = await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken);
                }

                var deviceToken = response.Headers.TryGetValues(DeviceTokenHeader, out var tokens) ? tokens.FirstOrDefault() : null;
                return new ApiResult<T>((int)response.StatusCode, value, null, etag, location, deviceToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TimeoutRejectedException or BrokenCircuitException or JsonException
                                       || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // The gateway itself is away (or answered nonsense): the page says so and offers a retry.
                logger.LogWarning(ex, "The gateway could not be reached for {Method} {Path}", request.Method, request.RequestUri);
                return ApiResult.Failed<T>(ApiProblem.Unreachable);
            }
        }
    }

    private static async Task<ApiProblem> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        string? title = null, detail = null, traceId = null;
        var errors = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        try
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (body.Length > 0 && JsonDocument.Parse(body).RootElement is { ValueKind: JsonValueKind.Object } problem)
            {
                title = String(problem, "title");
                detail = String(problem, "detail");
                traceId = String(problem, "traceId");
                if (problem.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
                {
                    foreach (var field in fields.EnumerateObject())
                    {
                        errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                            ? [.. field.Value.EnumerateArray().Select(m => m.ToString())]
                            : [field.Value.ToString()];
                    }
                }
            }
        }
        catch (JsonException)
        {
            // Not problem details (e.g. an empty 502 from something in front): the status says enough.
        }

        return new ApiProblem(status, title, detail, errors, traceId);

        static string? String(JsonElement element, string name) =>
            element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }
}
