using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace Gateway.OpenApi;

/// <summary>
/// The movie routes of the public document, as the movie service describes them: each time the
/// public document is built (at most once a minute, <see cref="PublicDocumentCachePolicy"/>), the gateway asks the movie service for its own document
/// (<c>http://movieservice/openapi/v1.json</c>, internal) and publishes its <c>/movies</c> routes as
/// the gateway proxies them, under <c>/api/movies</c>, with their schemas and tag; it adds what the
/// gateway itself does on the way: the bearer scheme, and its own answers (401, 413, 429, 503, 504).
/// When the movie service cannot be asked, the last copy it gave is used; before the first one,
/// the public document has the gateway's own routes only, and a warning says why.
/// </summary>
internal sealed partial class MovieServiceDocument(IHttpClientFactory httpClients, ILogger<MovieServiceDocument> logger)
{
    public const string HttpClientName = "movieservice-openapi";
    public const string DocumentPath = "/openapi/v1.json";

    /// <summary>How long a request for the public document waits for the movie service's.</summary>
    public static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The movie service's route prefix and what the gateway's YARP route puts in front of it (appsettings.json, ReverseProxy).</summary>
    private const string ServicePrefix = "/movies";
    private const string PublicPrefix = "/api";

    private volatile string? _lastCopy;

    /// <summary>Whether the public document has the movie routes: the movie service has answered at least once.</summary>
    public bool HasMovieRoutes => _lastCopy is not null;

    public async Task AddMovieRoutesAsync(OpenApiDocument document, CancellationToken cancellationToken)
    {
        var json = await FetchAsync(cancellationToken);
        if (json is null)
        {
            return;
        }

        // Parsed anew each time: the objects become part of this one public document.
        var movies = OpenApiDocument.Parse(json, OpenApiConstants.Json, new OpenApiReaderSettings()).Document;
        if (movies?.Paths is null)
        {
            LogUnreadable(logger);
            return;
        }

        document.Paths ??= new OpenApiPaths();
        foreach (var (path, item) in movies.Paths.Where(p => IsProxied(p.Key)))
        {
            foreach (var operation in item.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            {
                AddGatewayAnswers(operation, document);
            }

            document.Paths[PublicPrefix + path] = item;
        }

        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, schema) in movies.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
        {
            // The shared ones (ProblemDetails, HttpValidationProblemDetails) are the framework's in both documents.
            document.Components.Schemas.TryAdd(name, schema);
        }

        document.Tags ??= new HashSet<OpenApiTag>();
        foreach (var tag in movies.Tags ?? Enumerable.Empty<OpenApiTag>())
        {
            if (!document.Tags.Any(t => t.Name == tag.Name))
            {
                document.Tags.Add(tag);
            }
        }
    }

    /// <summary>Only what the gateway proxies (<c>/api/movies/**</c>) is public; any other route of the movie service stays internal.</summary>
    private static bool IsProxied(string path) =>
        path == ServicePrefix || path.StartsWith(ServicePrefix + "/", StringComparison.Ordinal);

    private static void AddGatewayAnswers(OpenApiOperation operation, OpenApiDocument document)
    {
        operation.Security = [GatewayOpenApi.Bearer(document)];
        GatewayOpenApi.AddProblem(operation, document, StatusCodes.Status401Unauthorized, "No access token, or one that is invalid, expired or ended");
        if (operation.RequestBody is not null)
        {
            GatewayOpenApi.AddProblem(operation, document, StatusCodes.Status413PayloadTooLarge, "The body is larger than the movie routes take");
        }

        GatewayOpenApi.AddProblem(operation, document, StatusCodes.Status429TooManyRequests, "Too many requests: try again after Retry-After seconds", retryAfter: true);
        GatewayOpenApi.AddProblem(operation, document, StatusCodes.Status503ServiceUnavailable, "The movie service cannot be reached: try again after Retry-After seconds", retryAfter: true);
        GatewayOpenApi.AddProblem(operation, document, StatusCodes.Status504GatewayTimeout, "The movie service did not answer in time");
    }

    private async Task<string?> FetchAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var http = httpClients.CreateClient(HttpClientName);
            var json = await http.GetStringAsync(DocumentPath, cancellationToken);
            _lastCopy = json;
            return json;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(logger, _lastCopy is null ? "without the movie routes (no earlier copy)" : "with the last copy of the movie routes", ex);
            return _lastCopy;
        }
    }

    [LoggerMessage(LogLevel.Warning, "The movie service's OpenAPI document could not be fetched; the public document is served {What}.")]
    private static partial void LogUnavailable(ILogger logger, string what, Exception exception);

    [LoggerMessage(LogLevel.Warning, "The movie service's OpenAPI document could not be read; the public document is served without the movie routes.")]
    private static partial void LogUnreadable(ILogger logger);
}
