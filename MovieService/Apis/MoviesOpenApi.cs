using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using MovieService.Model;

namespace MovieService.Apis;

/// <summary>
/// The movie service's OpenAPI document, <c>/openapi/v1.json</c>: generated from the endpoints'
/// own metadata (names, summaries, descriptions, problem answers, the validation attributes of
/// <see cref="MovieInput"/> and <see cref="MovieListQuery"/>), plus what no attribute can say.
/// Internal like every route here: the gateway publishes it, under <c>/api/movies</c>, as part of
/// the public document (docs/openapi.md).
/// </summary>
internal static class MoviesOpenApi
{
    public const string ETag = "ETag";
    public const string Location = "Location";

    private static readonly Dictionary<string, string> HeaderDescriptions = new(StringComparer.Ordinal)
    {
        [ETag] = "The movie's version, for If-Match",
        [Location] = "Where the new movie is",
    };

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "MovieDb movie service",
                Version = "v1",
                Description = "Each user's own movie collection. Internal: clients reach it through the gateway, under /api/movies.",
            };
            document.Tags = new HashSet<OpenApiTag> { new() { Name = "Movies", Description = "Your own movie collection" } };
            return Task.CompletedTask;
        });
        options.AddSchemaTransformer(DescribeCalendarAndGenreLimits);

        // The query record's properties bind case-insensitively; clients see them as the API names them.
        options.AddOperationTransformer((operation, _, _) =>
        {
            foreach (var parameter in operation.Parameters?.OfType<OpenApiParameter>().Where(p => p.In == ParameterLocation.Query) ?? [])
            {
                parameter.Name = JsonNamingPolicy.CamelCase.ConvertName(parameter.Name!);
            }

            return Task.CompletedTask;
        });
    }

    /// <summary>Declares the <c>If-Match</c> header the handler reads from the request itself.</summary>
    public static RouteHandlerBuilder WithIfMatchHeader(this RouteHandlerBuilder builder, bool required, string description) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Required = required,
                Description = description,
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            });
            return Task.CompletedTask;
        });

    /// <summary>Declares headers (<see cref="ETag"/>, <see cref="Location"/>) of one of the endpoint's responses.</summary>
    public static RouteHandlerBuilder WithResponseHeader(this RouteHandlerBuilder builder, int status, params string[] headers) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            if (operation.Responses?.GetValueOrDefault(status.ToString(CultureInfo.InvariantCulture)) is OpenApiResponse response)
            {
                response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                foreach (var header in headers)
                {
                    response.Headers[header] = new OpenApiHeader { Description = HeaderDescriptions[header], Schema = new OpenApiSchema { Type = JsonSchemaType.String } };
                }
            }

            return Task.CompletedTask;
        });

    /// <summary>
    /// The two limits of <see cref="MovieRules"/> no attribute can state: the latest release year
    /// moves with the calendar, and the length limit is on each genre, not on the list.
    /// </summary>
    private static Task DescribeCalendarAndGenreLimits(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo?.DeclaringType != typeof(MovieInput))
        {
            return Task.CompletedTask;
        }

        switch (context.JsonPropertyInfo.Name)
        {
            case "releaseYear":
                var time = context.ApplicationServices.GetRequiredService<TimeProvider>();
                schema.Minimum = MovieLimits.FirstReleaseYear.ToString(CultureInfo.InvariantCulture);
                schema.Maximum = MovieRules.LastReleaseYear(time).ToString(CultureInfo.InvariantCulture);
                break;
            case "genres" when schema.Items is OpenApiSchema genre:
                genre.MinLength = 1;
                genre.MaxLength = MovieLimits.GenreMaxLength;
                break;
        }

        return Task.CompletedTask;
    }
}
