using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using WebApp.Auth;
using WebApp.Extensions;
using WebApp.Model;
using WebApp.Services;

namespace MovieDb.Tests.Unit;

/// <summary>The web app's rules that need no browser: redirects, refresh, forwarded address, list URLs.</summary>
public sealed class WebAppTests
{
    [Theory]
    [InlineData("/movies?search=x", "/movies?search=x")]
    [InlineData("/", "/")]
    [InlineData("//evil.example/", "/movies")]
    [InlineData("/\\evil.example/", "/movies")]
    [InlineData("https://evil.example/", "/movies")]
    [InlineData("javascript:alert(1)", "/movies")]
    [InlineData("/\t/evil.example/", "/movies")]
    [InlineData("/ /evil.example/", "/movies")]
    [InlineData("", "/movies")]
    [InlineData(null, "/movies")]
    public void A_return_url_is_followed_only_to_a_local_path(string? returnUrl, string expected) =>
        Assert.Equal(expected, SessionSignIn.LocalUrlOr(returnUrl, "/movies"));

    [Fact]
    public async Task Calls_to_the_gateway_carry_the_browsers_address_and_only_that()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse("::ffff:203.0.113.7");
        var inner = new RecordingHandler();
        using var handler = new ForwardedForHandler(new HttpContextAccessor { HttpContext = context }) { InnerHandler = inner };
        using var client = new HttpClient(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://gateway/api/movies");
        request.Headers.Add(ForwardedForHandler.HeaderName, "198.51.100.1");

        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(["203.0.113.7"], inner.Request!.Headers.GetValues(ForwardedForHandler.HeaderName));
    }

    [Fact]
    public void The_list_state_round_trips_through_its_url_and_becomes_the_api_query()
    {
        var query = new MovieQuery("stal ker", "Science Fiction", 1979, "-year", 2, AllOwners: true);

        Assert.Equal("/movies?search=stal%20ker&genre=Science%20Fiction&year=1979&sort=-year&owner=all&page=3", query.ToPageUrl(3));
        Assert.Equal("/movies?search=stal%20ker&genre=Science%20Fiction&year=1979&sort=-year&owner=all", query.ToPageUrl(1));
        Assert.Equal("?search=stal%20ker&genre=Science%20Fiction&year=1979&sort=-year&page=2&pageSize=12&owner=all", query.ToApiQueryString());
        Assert.Equal("title", (query with { Sort = "drop table" }).EffectiveSort);
    }

    [Fact]
    public void Numbers_that_are_not_numbers_are_reported_by_field_before_anything_is_sent()
    {
        var input = new MovieForm { Title = " Stalker ", ReleaseYear = "nineteen", Genres = "Drama, , Science Fiction", RuntimeMinutes = "162" }.ToInput(out var errors);

        Assert.Equal("Stalker", input.Title);
        Assert.Equal(["Drama", "Science Fiction"], input.Genres);
        Assert.Equal(162, input.RuntimeMinutes);
        Assert.Equal(["releaseYear"], errors.Keys);
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }

    [Fact]
    public async Task A_save_whose_outcome_the_movie_service_could_not_confirm_is_explained_without_claiming_nothing_changed()
    {
        Assert.Equal(MovieService.Infrastructure.DatabaseUnavailableHandler.ChangeNotConfirmedTitle, ApiProblem.ChangeNotConfirmedTitle);
        var unconfirmed = new ApiProblem(503, ApiProblem.ChangeNotConfirmedTitle, "detail", new Dictionary<string, string[]>(), "trace");
        var outage = new ApiProblem(503, "Database unavailable", "detail", new Dictionary<string, string[]>(), "trace");

        var unconfirmedHtml = await RenderProblemAsync(unconfirmed);
        Assert.Contains("may not have been saved", unconfirmedHtml, StringComparison.Ordinal);
        Assert.DoesNotContain("Nothing was changed", unconfirmedHtml, StringComparison.Ordinal);
        Assert.Contains("Nothing was changed", await RenderProblemAsync(outage), StringComparison.Ordinal);
    }

    private static async Task<string> RenderProblemAsync(ApiProblem problem)
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        await using var renderer = new Microsoft.AspNetCore.Components.Web.HtmlRenderer(services, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var parameters = Microsoft.AspNetCore.Components.ParameterView.FromDictionary(new Dictionary<string, object?> { ["Problem"] = problem });
            var output = await renderer.RenderComponentAsync<WebApp.Components.Shared.ProblemMessage>(parameters);
            return output.ToHtmlString();
        });
    }
}
