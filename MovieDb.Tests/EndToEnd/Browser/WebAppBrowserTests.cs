using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Movies;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.Browser;

/// <summary>
/// MovieDb in a real browser: Chromium drives the web app, which talks to the gateway of an
/// in-process system (real MariaDB and RabbitMQ). One system and one browser for the class; each
/// test has its own people, so the tests never see each other's data.
/// </summary>
public sealed partial class WebAppBrowserTests(WebAppBrowserTests.System system) : IClassFixture<WebAppBrowserTests.System>
{
    public sealed class System(TestServers servers) : WebAppSystem(servers);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_person_signs_up_then_adds_finds_edits_and_deletes_a_movie()
    {
        system.SkipWithoutBrowser();
        var page = await system.NewPageAsync();
        var problems = WatchConsole(page);
        var name = $"ann{Guid.NewGuid():N}"[..16];
        const string password = "s3cret-passw0rd";

        // Sign up: the account is created and the person is signed in.
        await page.GotoAsync("/signup");
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("E-mail").FillAsync($"{name}@example.test");
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/movies\\?notice=welcome"));
        await Expect(page.GetByText("No movies yet")).ToBeVisibleAsync();

        // Sign out, and in again.
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();
        await WebAppSystem.SignInAsync(page, name, password);

        // Add two movies.
        await AddMovieAsync(page, "Stalker", "1979", "Drama, Science Fiction", "162", "A guide leads two men through the Zone.");
        await Expect(page.GetByText("The movie is in your collection.")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "movie-details");
        var stalkerUrl = page.Url;
        await AddMovieAsync(page, "Solaris", "1972", "Drama", "167", null);

        // Find it by search, then by genre and year: the filters live in the URL.
        await page.GotoAsync("/movies");
        await page.GetByLabel("Title contains").FillAsync("stal");
        await ApplyFiltersAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("search=stal"));
        await Expect(MovieLinks(page)).ToHaveTextAsync(["Stalker"]);

        await page.GetByLabel("Title contains").FillAsync(string.Empty);
        await page.GetByLabel("Genre", new() { Exact = true }).FillAsync("Science Fiction");
        await page.GetByLabel("Year", new() { Exact = true }).FillAsync("1979");
        await ApplyFiltersAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("genre=Science"));
        await Expect(MovieLinks(page)).ToHaveTextAsync(["Stalker"]);
        await page.GetByLabel("Genre", new() { Exact = true }).FillAsync("Drama");
        await page.GetByLabel("Year", new() { Exact = true }).FillAsync(string.Empty);
        await page.GetByLabel("Sort by").SelectOptionAsync("-year");
        await ApplyFiltersAsync(page);
        await Expect(page).ToHaveURLAsync(new Regex("genre=Drama&year=&sort=-year"));
        await Expect(MovieLinks(page)).ToHaveTextAsync(["Stalker", "Solaris"]);
        await Chromium.ScreenshotAsync(page, "movie-list");

        // A shared link shows the same list; Back returns to the previous filters.
        await page.GoBackAsync();
        await Expect(page).ToHaveURLAsync(new Regex("year=1979"));
        await Expect(MovieLinks(page)).ToHaveTextAsync(["Stalker"]);

        // Edit: the API's validation message appears next to its field; then a valid change saves.
        await page.GotoAsync(stalkerUrl);
        await page.Locator("main").GetByRole(AriaRole.Link, new() { Name = "Edit" }).ClickAsync();
        await page.GetByLabel("Release year").FillAsync("1700");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.Locator("#releaseYear-error")).ToContainTextAsync("The release year must be between 1888 and");
        await Expect(page.GetByLabel("Release year")).ToHaveAttributeAsync("aria-invalid", "true");
        await Chromium.ScreenshotAsync(page, "movie-edit-invalid");
        await page.GetByLabel("Release year").FillAsync("1979");
        await page.GetByLabel("Runtime in minutes").FillAsync("163");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        await Expect(page.GetByText("Your changes are saved.")).ToBeVisibleAsync();
        await Expect(page.GetByText("163 minutes")).ToBeVisibleAsync();

        // Delete, after a confirmation.
        await page.Locator("main").GetByRole(AriaRole.Link, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.GetByText("This cannot be undone.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete movie" }).ClickAsync();
        await Expect(page.GetByText("The movie was deleted.")).ToBeVisibleAsync();
        await Expect(MovieLinks(page)).ToHaveTextAsync(["Solaris"]);

        Assert.Empty(problems);
    }

    [Fact]
    public async Task A_second_person_never_sees_the_first_ones_movies()
    {
        system.SkipWithoutBrowser();
        var first = await system.NewUserAsync("first");
        using var firstClient = first.CreateClient();
        var (movie, _) = await MovieHttp.CreateAsync(firstClient, MovieHttp.NewMovie("Mirror of the First"), "/api/movies");
        var second = await system.NewUserAsync("second");

        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, second.UserName, second.Password);
        await Expect(page.GetByText("No movies yet")).ToBeVisibleAsync();
        await Expect(page.GetByText("Mirror of the First")).ToHaveCountAsync(0);

        // Not even by its address.
        await page.GotoAsync($"/movies/{movie.Id}");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await page.GotoAsync($"/movies/{movie.Id}/edit");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        await Expect(page.GetByLabel("Title")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task An_admin_makes_someone_an_admin_then_deletes_their_account_which_ends_their_session()
    {
        system.SkipWithoutBrowser();
        var member = await system.NewUserAsync("member");
        using (var memberClient = member.CreateClient())
        {
            await MovieHttp.CreateAsync(memberClient, MovieHttp.NewMovie("Members Only"), "/api/movies");
        }

        var memberPage = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(memberPage, member.UserName, member.Password);
        await Expect(memberPage.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToHaveCountAsync(0);

        var admin = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(admin, AdminUserName, AdminPassword);
        await admin.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await Expect(admin.GetByRole(AriaRole.Heading, new() { Name = "Users" })).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(admin, "admin-users");
        await admin.GetByRole(AriaRole.Link, new() { Name = member.UserName }).ClickAsync();
        await admin.GetByLabel("Administrator").CheckAsync();
        await admin.GetByRole(AriaRole.Button, new() { Name = "Save roles" }).ClickAsync();
        await Expect(admin.GetByText("Roles saved.")).ToBeVisibleAsync();
        await Expect(admin.Locator(".facts")).ToContainTextAsync("admin, user");

        // A change of roles ends every session of the account: the member's next page sends them to
        // sign in, told why; signed in again, they have the new role.
        await memberPage.ReloadAsync();
        await Expect(memberPage).ToHaveURLAsync(new Regex("/signin"));
        await Expect(memberPage.GetByText("Your session has ended.")).ToBeVisibleAsync();
        await WebAppSystem.SignInAsync(memberPage, member.UserName, member.Password);
        await Expect(memberPage.GetByRole(AriaRole.Link, new() { Name = "Users" })).ToBeVisibleAsync();

        // The admin browses everyone's movies, then deletes the account (and its movies).
        await admin.GotoAsync("/movies?owner=all&search=Members%20Only");
        await Expect(MovieLinks(admin)).ToHaveTextAsync(["Members Only"]);
        await admin.GotoAsync($"/admin/users/{member.Id}");
        await admin.GetByRole(AriaRole.Link, new() { Name = "Delete this account" }).ClickAsync();
        await Expect(admin.Locator("main")).ToContainTextAsync("and all of their movies");
        await admin.GetByRole(AriaRole.Button, new() { Name = "Delete account and movies" }).ClickAsync();
        await Expect(admin.GetByText("The account and its movies were deleted.")).ToBeVisibleAsync();
        await Expect(admin.GetByRole(AriaRole.Link, new() { Name = member.UserName })).ToHaveCountAsync(0);

        // The deleted member's session cannot be refreshed any more: they are sent to sign in, told why.
        await memberPage.GotoAsync("/movies");
        await Expect(memberPage).ToHaveURLAsync(new Regex("/signin"));
        await Expect(memberPage.GetByText("Your session has ended.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_person_changes_their_email_and_password_which_needs_the_current_one()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("mover");
        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);
        await page.GetByRole(AriaRole.Link, new() { Name = "Account" }).ClickAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync($"{user.UserName}@example.test");

        await page.GetByLabel("New e-mail").FillAsync("not-an-address");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save e-mail" }).ClickAsync();
        await Expect(page.Locator("#email-error")).ToBeVisibleAsync();
        await Expect(page.GetByLabel("New e-mail")).ToHaveAttributeAsync("aria-invalid", "true");
        await page.GetByLabel("New e-mail").FillAsync($"moved-{user.UserName}@example.test");
        await page.GetByLabel("Password, to confirm it is you").FillAsync("not-my-password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save e-mail" }).ClickAsync();
        await Expect(page.Locator("#emailCurrentPassword-error")).ToContainTextAsync("The current password is wrong.");
        await page.GetByLabel("New e-mail").FillAsync($"moved-{user.UserName}@example.test");
        await page.GetByLabel("Password, to confirm it is you").FillAsync(user.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save e-mail" }).ClickAsync();
        await Expect(page.GetByText("Your e-mail address is saved.")).ToBeVisibleAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync($"moved-{user.UserName}@example.test");

        await page.GetByLabel("Current password").FillAsync("not-my-password");
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("an0ther-passw0rd");
        await page.GetByLabel("New password again").FillAsync("an0ther-passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save password" }).ClickAsync();
        await Expect(page.Locator("#currentPassword-error")).ToContainTextAsync("The current password is wrong.");
        await page.GetByLabel("Current password").FillAsync(user.Password);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("an0ther-passw0rd");
        await page.GetByLabel("New password again").FillAsync("an0ther-passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save password" }).ClickAsync();
        await Expect(page.GetByText("Your new password is saved.")).ToBeVisibleAsync();

        // The new password ended every other session of the account; this one was signed in again with it.
        await page.GetByRole(AriaRole.Link, new() { Name = "Account" }).ClickAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync($"moved-{user.UserName}@example.test");
        await ProblemAssert.IsProblemAsync(await user.CreateClient().GetAsync("/api/users/me", TestContext.Current.CancellationToken), global::System.Net.HttpStatusCode.Unauthorized);

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, "an0ther-passw0rd");
    }

    [Fact]
    public async Task Signing_out_ends_the_session_and_a_copy_of_the_cookie_no_longer_works()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("leaver");
        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);

        // One cookie, out of page script's reach; the tokens are not readable in it.
        var cookies = await page.Context.CookiesAsync();
        var session = Assert.Single(cookies, c => c.Name.StartsWith("moviedb.session", StringComparison.Ordinal));
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteAttribute.Lax, session.SameSite);
        Assert.DoesNotContain("moviedb.session", await page.EvaluateAsync<string>("document.cookie"), StringComparison.Ordinal);
        Assert.DoesNotContain(user.Tokens.RefreshToken, session.Value, StringComparison.Ordinal);
        // No JWT in clear: a base64url JSON header and payload (`{"` encodes as "eyJ"), dot-separated.
        // "eyJ" alone turns up in an encrypted cookie by chance (about 1 sign-in in 100).
        Assert.DoesNotMatch(new Regex(@"eyJ[A-Za-z0-9_-]+\.eyJ"), session.Value);
        var stolen = await page.Context.CookiesAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true }).ClickAsync();
        await Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();
        await page.GotoAsync("/movies");
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?returnUrl="));

        // Replaying the cookie from before sign-out: signed out all the same.
        var replay = await system.NewPageAsync();
        await replay.Context.AddCookiesAsync(stolen.Select(c => new Cookie { Name = c.Name, Value = c.Value, Domain = c.Domain, Path = c.Path }));
        await replay.GotoAsync("/movies");
        await Expect(replay).ToHaveURLAsync(new Regex("/signin"));
        await Expect(replay.GetByRole(AriaRole.Button, new() { Name = "Sign out", Exact = true })).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_restart_of_the_web_app_signs_nobody_out()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("stayer");
        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);

        // Its Data Protection keys are in a folder, so the new process reads the old cookie. (A
        // cookie belongs to the host, not the port: the new instance's port gets it too.)
        await system.RestartWebAppAsync();
        await page.GotoAsync(new Uri(system.WebAppAddress, "/account").ToString());
        await Expect(page.Locator(".facts")).ToContainTextAsync(user.UserName);
    }

    [Fact]
    public async Task An_edit_that_lost_a_race_is_explained_and_the_person_can_save_over_the_current_version()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("racer");
        using var client = user.CreateClient();
        var (movie, _) = await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("The Mirror", 1975), "/api/movies");

        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);
        await page.GotoAsync($"/movies/{movie.Id}/edit");
        await page.GetByLabel("Runtime in minutes").FillAsync("108");

        // Meanwhile, the same movie is changed elsewhere (another device, through the API).
        using (var elsewhere = new HttpRequestMessage(HttpMethod.Put, $"/api/movies/{movie.Id}") { Content = JsonContent.Create(MovieHttp.NewMovie("Zerkalo", 1975)) })
        {
            elsewhere.Headers.IfMatch.Add(new EntityTagHeaderValue("\"1\""));
            using var changed = await client.SendAsync(elsewhere, Ct);
            changed.EnsureSuccessStatusCode();
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Save changes" }).ClickAsync();
        var warning = page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "This movie was changed elsewhere" });
        await Expect(warning).ToBeVisibleAsync();
        await Expect(warning).ToContainTextAsync("Zerkalo");
        await Expect(page.GetByLabel("Runtime in minutes")).ToHaveValueAsync("108");
        await Chromium.ScreenshotAsync(page, "movie-edit-conflict");

        await page.GetByRole(AriaRole.Button, new() { Name = "Save mine over it" }).ClickAsync();
        await Expect(page.GetByText("Your changes are saved.")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "The Mirror" })).ToBeVisibleAsync();
        await Expect(page.GetByText("108 minutes")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Pages_work_by_keyboard_at_phone_width_and_without_javascript_under_a_strict_csp()
    {
        system.SkipWithoutBrowser();
        var user = await system.NewUserAsync("reader");
        using (var client = user.CreateClient())
        {
            await MovieHttp.CreateAsync(client, MovieHttp.NewMovie("Andrei Rublev", 1966, ["Drama", "History"], 205), "/api/movies");
        }

        // A strict policy: nothing inline, nothing from elsewhere.
        var phone = await system.NewPageAsync(phone: true);
        var problems = WatchConsole(phone);
        var response = await phone.GotoAsync("/signin");
        var csp = await response!.HeaderValueAsync("content-security-policy");
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);

        // Keyboard: the first Tab reaches "Skip to content"; the form is filled and sent with keys alone.
        await phone.Keyboard.PressAsync("Tab");
        await Expect(phone.GetByRole(AriaRole.Link, new() { Name = "Skip to content" })).ToBeFocusedAsync();
        await phone.GetByLabel("User name").FocusAsync();
        await phone.Keyboard.TypeAsync(user.UserName);
        await phone.Keyboard.PressAsync("Tab");
        await phone.Keyboard.TypeAsync(user.Password);
        await phone.Keyboard.PressAsync("Enter");
        await Expect(MovieLinks(phone)).ToHaveTextAsync(["Andrei Rublev"]);
        var width = await phone.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"the movie list is {width}px wide on a 390px screen");
        await Chromium.ScreenshotAsync(phone, "movie-list-phone");
        Assert.Empty(problems);

        // Without JavaScript: sign in with a plain form post, and read the list and a movie.
        var plain = await system.NewPageAsync(javaScript: false);
        await plain.GotoAsync("/signin");
        await plain.GetByLabel("User name").FillAsync(user.UserName);
        await plain.GetByLabel("Password").FillAsync(user.Password);
        await plain.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(MovieLinks(plain)).ToHaveTextAsync(["Andrei Rublev"]);
        await MovieLinks(plain).First.ClickAsync();
        await Expect(plain.GetByText("205 minutes")).ToBeVisibleAsync();
    }

    private static ILocator MovieLinks(IPage page) => page.Locator(".movie-card h2 a");

    /// <summary>
    /// Submits the filters and waits until Blazor has swapped the new page in (its "enhancedload"
    /// event): the old list may already look right, and a field filled before the swap would be reset.
    /// </summary>
    private static async Task ApplyFiltersAsync(IPage page)
    {
        var loads = await page.EvaluateAsync<int>(
            "() => window.moviedbLoads ??= (Blazor.addEventListener('enhancedload', () => window.moviedbLoads++), 0)");
        await page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await page.WaitForFunctionAsync("n => window.moviedbLoads > n", loads);
    }

    private static async Task AddMovieAsync(IPage page, string title, string year, string genres, string runtime, string? synopsis)
    {
        await page.GotoAsync("/movies/new");
        await page.GetByLabel("Title").FillAsync(title);
        await page.GetByLabel("Release year").FillAsync(year);
        await page.GetByLabel("Genres").FillAsync(genres);
        await page.GetByLabel("Runtime in minutes").FillAsync(runtime);
        if (synopsis is not null)
        {
            await page.GetByLabel("Synopsis").FillAsync(synopsis);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Add movie" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = title })).ToBeVisibleAsync();
    }

    /// <summary>Console errors and failed page scripts — a CSP violation shows up here.</summary>
    private static List<string> WatchConsole(IPage page)
    {
        var problems = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems.Add(message.Text);
            }
        };
        page.PageError += (_, error) => problems.Add(error);
        return problems;
    }

    private const string AdminUserName = MovieDbSystem.AdminUserName;
    private const string AdminPassword = MovieDbSystem.AdminPassword;
}
