using Microsoft.AspNetCore.OutputCaching;

namespace Gateway.OpenApi;

/// <summary>
/// The public document is the same for everyone, so each gateway instance builds it at most once per
/// <c>OpenApi:CacheDuration</c> (a minute by default) and serves the copy to whoever asks — an
/// Authorization header, even a made-up one, or another Host does not get around it, so no caller can make the gateway
/// fetch the movie service's document and rebuild its own on every request. Concurrent requests for
/// an expired copy wait for one build. A document without the movie routes (the movie service has
/// not answered since the gateway started) is never kept: the next request asks the movie service again.
/// </summary>
internal sealed class PublicDocumentCachePolicy(TimeSpan duration) : IOutputCachePolicy
{
    public const string Name = "public-openapi-document";
    public const string DurationSetting = "OpenApi:CacheDuration";
    public static readonly TimeSpan DefaultDuration = TimeSpan.FromMinutes(1);

    ValueTask IOutputCachePolicy.CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        context.EnableOutputCaching = duration > TimeSpan.Zero;
        context.AllowCacheLookup = true;
        context.AllowCacheStorage = true;
        context.AllowLocking = true;
        context.ResponseExpirationTimeSpan = duration;
        // One copy whatever the Host header says (the document's server is relative): a caller who
        // changed it on every request would get a fresh build each time.
        context.CacheVaryByRules.VaryByHost = false;
        return ValueTask.CompletedTask;
    }

    ValueTask IOutputCachePolicy.ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

    ValueTask IOutputCachePolicy.ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var complete = context.HttpContext.RequestServices.GetRequiredService<MovieServiceDocument>().HasMovieRoutes;
        if (context.HttpContext.Response.StatusCode != StatusCodes.Status200OK || !complete)
        {
            context.AllowCacheStorage = false;
        }

        return ValueTask.CompletedTask;
    }
}
