using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Gateway.OpenApi;

/// <summary>
/// The public OpenAPI document, <c>/openapi/v1.json</c>: the gateway's own endpoints (generated from
/// their metadata), the answers its middleware adds to them (401, 413, 429), the bearer scheme, and
/// the movie routes as the movie service's own document describes them (<see cref="MovieServiceDocument"/>).
/// docs/openapi.md explains how it is put together.
/// </summary>
internal static class GatewayOpenApi
{
    public const string BearerScheme = "Bearer";
    public const string ProblemDetailsSchema = "ProblemDetails";

    public static IHostApplicationBuilder AddGatewayOpenApi(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOpenApi(Configure);
        var cacheDuration = builder.Configuration.GetValue<TimeSpan?>(PublicDocumentCachePolicy.DurationSetting) ?? PublicDocumentCachePolicy.DefaultDuration;
        if (cacheDuration < TimeSpan.Zero)
        {
            throw new InvalidOperationException($"{PublicDocumentCachePolicy.DurationSetting} must not be negative (00:00:00 turns the cache off); it is {cacheDuration}.");
        }

        services.AddOutputCache(options => options.AddPolicy(PublicDocumentCachePolicy.Name, new PublicDocumentCachePolicy(cacheDuration)));
        services.AddSingleton<MovieServiceDocument>();

        // Service discovery and the standard retries, within a short wait: when the movie service does
        // not answer, the public document is served from the last copy it gave.
        services.AddHttpClient(MovieServiceDocument.HttpClientName, http =>
        {
            http.BaseAddress = new Uri("http://movieservice");
            http.Timeout = MovieServiceDocument.FetchTimeout;
        });
        return builder;
    }

    private static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer(DescribeDocument);
        options.AddDocumentTransformer((document, context, cancellationToken) =>
            context.ApplicationServices.GetRequiredService<MovieServiceDocument>().AddMovieRoutesAsync(document, cancellationToken));
        options.AddDocumentTransformer(SortAnswers);
        options.AddOperationTransformer(DescribeCommonAnswers);
    }

    /// <summary>The document's title, server, tags and the bearer scheme.</summary>
    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "MovieDb API",
            Version = "v1",
            Description = "The public API of MovieDb: accounts and sign-in, and your own movie collection. Errors are RFC 9457 problem details with a traceId.",
            // The repository grants no license yet: say so, until it does.
            License = new OpenApiLicense { Name = "All rights reserved (no license granted)", Identifier = "LicenseRef-MovieDb-All-Rights-Reserved" },
        };

        // Relative: the API is wherever this document was fetched from (behind any proxy or ingress).
        document.Servers = [new OpenApiServer { Url = "/" }];
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Auth", Description = "Registration, activation, sign-in and sessions" },
            new() { Name = "Users", Description = "Accounts: your own, or anyone's for an admin" },
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
        return Task.CompletedTask;
    }

    /// <summary>Answers in status order, wherever they were declared.</summary>
    private static Task SortAnswers(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var operation in document.Paths.Values.SelectMany(p => p.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            if (operation.Responses is { } responses)
            {
                var sorted = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
                responses.Clear();
                foreach (var (status, response) in sorted)
                {
                    responses[status] = response;
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>What every operation may answer besides its own: security, 401, 413, 429, 503 with Retry-After.</summary>
    private static Task DescribeCommonAnswers(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        var signedIn = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();

        // Anonymous operations say so (an empty list), rather than leaving it to a default.
        operation.Security = signedIn ? [Bearer(context.Document)] : [];
        if (signedIn)
        {
            AddProblem(operation, context.Document, StatusCodes.Status401Unauthorized, "No access token, or one that is invalid, expired or ended");
        }

        if (operation.RequestBody is not null && metadata.OfType<IRequestSizeLimitMetadata>().Any())
        {
            AddProblem(operation, context.Document, StatusCodes.Status413PayloadTooLarge, "The body is larger than this route takes");
        }

        // Every request counts against the per-address limit; most routes have one of their own too.
        AddProblem(operation, context.Document, StatusCodes.Status429TooManyRequests, "Too many requests: try again after Retry-After seconds", retryAfter: true);

        // The user service's 503 (nothing was sent) says when to try again.
        if (operation.Responses?.GetValueOrDefault("503") is OpenApiResponse unavailable)
        {
            unavailable.Description = "The user service cannot be reached, nothing was changed: try again after Retry-After seconds";
            AddRetryAfter(unavailable);
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Declares the endpoint's problem-details answers: 400 with per-field errors, any other status
    /// with plain problem details. (401, 413 and 429 are added for every route they apply to.)
    /// </summary>
    public static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statusCodes)
    {
        foreach (var status in statusCodes)
        {
            builder = status == StatusCodes.Status400BadRequest ? builder.ProducesValidationProblem() : builder.ProducesProblem(status);
        }

        return builder;
    }

    public static OpenApiSecurityRequirement Bearer(OpenApiDocument? document) =>
        new() { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] };

    /// <summary>Adds a problem-details answer to the operation, unless it already declares that status.</summary>
    public static void AddProblem(OpenApiOperation operation, OpenApiDocument? document, int status, string description, bool retryAfter = false)
    {
        operation.Responses ??= new OpenApiResponses();
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (operation.Responses.ContainsKey(key))
        {
            return;
        }

        var response = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemDetailsSchema, document) },
            },
        };
        if (retryAfter)
        {
            AddRetryAfter(response);
        }

        operation.Responses[key] = response;
    }

    private static void AddRetryAfter(OpenApiResponse response)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>();
        response.Headers["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait before trying again", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } };
    }
}
