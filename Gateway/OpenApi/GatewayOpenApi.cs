using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

/// <summary>
/// The gateway's OpenAPI document: its own endpoints (generated), the bearer scheme, and the movie
/// routes it proxies, described here by hand because they are served by another service.
/// </summary>
internal static class GatewayOpenApi
{
    private const string BearerScheme = "Bearer";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "MovieDb API",
                Version = "v1",
                Description = "The public API of MovieDb: accounts and sign-in, and your own movie collection. Errors are RFC 9457 problem details with a traceId.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "The accessToken from POST /api/auth/login.",
            };
            AddMovieRoutes(document);
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [Bearer(context.Document)];
            }

            return Task.CompletedTask;
        });
    }

    private static OpenApiSecurityRequirement Bearer(OpenApiDocument? document) =>
        new() { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] };

    private static void AddMovieRoutes(OpenApiDocument document)
    {
        var schemas = document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        schemas["Movie"] = Object(
            ("id", String("uuid")), ("title", String()), ("releaseYear", Integer()), ("genres", Array(String())),
            ("runtimeMinutes", Integer(nullable: true)), ("synopsis", String(nullable: true)), ("ownerId", String()),
            ("createdAt", String("date-time")), ("updatedAt", String("date-time")));
        schemas["MovieInput"] = Object(
            ("title", new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 200 }),
            ("releaseYear", new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1888", Description = "1888 to next year + 5" }),
            ("genres", new OpenApiSchema { Type = JsonSchemaType.Array, MaxItems = 10, Items = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 40 } }),
            ("runtimeMinutes", new OpenApiSchema { Type = JsonSchemaType.Integer | JsonSchemaType.Null, Minimum = "1", Maximum = "1000" }),
            ("synopsis", new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, MaxLength = 4000 }));
        ((OpenApiSchema)schemas["MovieInput"]).Required = new HashSet<string> { "title", "releaseYear" };
        schemas["MoviePage"] = Object(("items", Array(new OpenApiSchemaReference("Movie", document))), ("page", Integer()), ("pageSize", Integer()), ("totalCount", Integer()));

        var movie = new OpenApiSchemaReference("Movie", document);
        var input = new OpenApiSchemaReference("MovieInput", document);
        var id = new OpenApiParameter { Name = "id", In = ParameterLocation.Path, Required = true, Schema = String("uuid") };

        document.Paths ??= new OpenApiPaths();
        document.Paths["/api/movies"] = new OpenApiPathItem
        {
            Operations = new()
            {
                [HttpMethod.Get] = Operation("ListMovies", "List your movies",
                    [
                        Query("search", String(), "Part of the title, any case"),
                        Query("genre", String(), "One genre, any case"),
                        Query("year", Integer(), "Release year"),
                        Query("sort", String(), "title, year or created; prefix '-' for descending. Default: title"),
                        Query("page", Integer(), "1-based page. Default 1"),
                        Query("pageSize", Integer(), "1 to 100. Default 20"),
                        Query("owner", String(), "Admins: a user id, or 'all'"),
                    ],
                    null, ("200", "A page of movies", new OpenApiSchemaReference("MoviePage", document)), ("400", "Invalid query", null), ("403", "owner is for admins", null)),
                [HttpMethod.Post] = Operation("CreateMovie", "Add a movie to your collection", [], input,
                    ("201", "Created; Location and ETag headers", movie), ("400", "Invalid movie", null)),
            },
        };
        document.Paths["/api/movies/{id}"] = new OpenApiPathItem
        {
            Operations = new()
            {
                [HttpMethod.Get] = Operation("GetMovie", "Get one of your movies, with its ETag", [id], null, ("200", "The movie", movie), ("404", "No such movie in your collection", null)),
                [HttpMethod.Put] = Operation("UpdateMovie", "Replace a movie", [id, Header("If-Match", "The ETag from GET, or *")], input,
                    ("200", "Replaced; new ETag", movie), ("400", "Invalid movie", null), ("404", "Not found", null), ("412", "Changed since you read it", null), ("428", "If-Match missing", null)),
                [HttpMethod.Delete] = Operation("DeleteMovie", "Delete a movie", [id, Header("If-Match", "Optional: the ETag from GET")], null,
                    ("204", "Deleted", null), ("404", "Not found", null), ("412", "Changed since you read it", null)),
            },
        };

        OpenApiOperation Operation(string operationId, string summary, List<IOpenApiParameter> parameters, IOpenApiSchema? body, params (string Status, string Description, IOpenApiSchema? Schema)[] responses)
        {
            var operation = new OpenApiOperation
            {
                OperationId = operationId,
                Summary = summary,
                Tags = new HashSet<OpenApiTagReference> { new("Movies", document) },
                Parameters = parameters,
                Security = [Bearer(document)],
                Responses = new OpenApiResponses(),
            };
            if (body is not null)
            {
                operation.RequestBody = new OpenApiRequestBody { Required = true, Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = body } } };
            }

            foreach (var (status, description, schema) in responses.Append(("401", "No or invalid access token", null)).Append(("503", "The movie service is unavailable", null)))
            {
                operation.Responses[status] = status == "204"
                    ? new OpenApiResponse { Description = description }
                    : new OpenApiResponse
                    {
                        Description = description,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            [schema is null ? "application/problem+json" : "application/json"] = new() { Schema = schema ?? new OpenApiSchema { Type = JsonSchemaType.Object } },
                        },
                    };
            }

            return operation;
        }
    }

    private static OpenApiParameter Query(string name, IOpenApiSchema schema, string description) =>
        new() { Name = name, In = ParameterLocation.Query, Schema = schema, Description = description };

    private static OpenApiParameter Header(string name, string description) =>
        new() { Name = name, In = ParameterLocation.Header, Schema = String(), Description = description };

    private static OpenApiSchema String(string? format = null, bool nullable = false) =>
        new() { Type = nullable ? JsonSchemaType.String | JsonSchemaType.Null : JsonSchemaType.String, Format = format };

    private static OpenApiSchema Integer(bool nullable = false) =>
        new() { Type = nullable ? JsonSchemaType.Integer | JsonSchemaType.Null : JsonSchemaType.Integer, Format = "int32" };

    private static OpenApiSchema Array(IOpenApiSchema items) => new() { Type = JsonSchemaType.Array, Items = items };

    private static OpenApiSchema Object(params (string Name, IOpenApiSchema Schema)[] properties) => new()
    {
        Type = JsonSchemaType.Object,
        Properties = properties.ToDictionary(p => p.Name, p => p.Schema),
    };
}
