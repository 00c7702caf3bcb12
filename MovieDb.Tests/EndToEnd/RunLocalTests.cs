using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// The no-container route of the README, proven: scripts/run-local.sh brings MovieDb up under the
/// AppHost on the real servers (user store on LiteDB, a local SMTP server), with the dashboard; the
/// shared scenarios pass through its gateway — new accounts activated through the mails it says where
/// to find — and Ctrl-C (SIGTERM) stops everything it started.
/// </summary>
public sealed class RunLocalTests(TestServers servers)
{
    [Fact]
    public async Task Run_local_brings_the_system_up_the_scenarios_pass_and_stopping_it_stops_every_service()
    {
        Assert.SkipWhen(RunLocalSystem.UnavailableReason() is not null, RunLocalSystem.UnavailableReason() ?? string.Empty);
        var system = new RunLocalSystem(servers);
        try
        {
            await system.InitializeAsync();

            await Scenarios.UserJourneyAsync(system);
            await Scenarios.UsersSeeOnlyTheirOwnMoviesAsync(system);
            await Scenarios.SpoofedIdentityHeadersGainNothingAsync(system);
            await Scenarios.AnAdminDeletesAUserAndTheirMoviesGoAsync(system);

            // The internal services listen only on loopback ports of their own, and nothing in the
            // gateway's answers points at them.
            using var client = system.CreateClient();
            var document = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
            Assert.DoesNotContain(system.MovieServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture), document, StringComparison.Ordinal);
            Assert.Contains("MovieDb is running.", system.Output, StringComparison.Ordinal);
            Assert.Contains($"password \"{MovieDbSystem.AdminPassword}\"", system.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(system.StateDirectory, "users.db")), "the LiteDB user store is in the state folder");
            Assert.True(File.Exists(Path.Combine(system.StateDirectory, "logs", "apphost.log")), "the AppHost's log is in the state folder");

            // The web app's address comes first, then the dashboard's login URL, then the gateway's.
            var output = system.Output;
            var webApp = output.IndexOf($"Web app:   http://localhost:{system.WebAppPort}", StringComparison.Ordinal);
            var dashboard = output.IndexOf($"Dashboard: http://localhost:{system.DashboardPort}/login?t=", StringComparison.Ordinal);
            Assert.True(webApp >= 0 && dashboard > webApp && output.IndexOf("Gateway:", StringComparison.Ordinal) > dashboard, "run-local.sh prints the web app's URL, then the dashboard's login URL, then the gateway's");
            using (var browser = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{system.WebAppPort}/"), Timeout = TimeSpan.FromSeconds(30) })
            {
                var signIn = await browser.GetStringAsync("/signin", TestContext.Current.CancellationToken);
                Assert.Contains("<h1>Sign in</h1>", signIn, StringComparison.Ordinal);
            }

            // The printed login URL signs a browser in to the dashboard (its token in a cookie), which
            // then serves its resources page; without it, the dashboard sends the browser to log in.
            var login = new Uri(RunLocalSystem.DashboardLoginPattern().Match(output).Value);
            using (var handler = new HttpClientHandler { AllowAutoRedirect = false })
            using (var browser = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) })
            {
                using var anonymous = await browser.GetAsync(new Uri(login, "/"), TestContext.Current.CancellationToken);
                Assert.Contains("/login", anonymous.Headers.Location?.ToString(), StringComparison.Ordinal);
                using var signedIn = await browser.GetAsync(login, TestContext.Current.CancellationToken);
                Assert.Equal(System.Net.HttpStatusCode.Found, signedIn.StatusCode);
                Assert.Equal(System.Net.HttpStatusCode.OK, (await browser.GetAsync(new Uri(login, "/"), TestContext.Current.CancellationToken)).StatusCode);
            }

            // A newcomer is told where the activation mails land, and that is where they are, with
            // links to the web app's activation page.
            var mails = Path.Combine(system.StateDirectory, "mail", "new");
            Assert.Contains($"activation mails land in {mails}/", system.Output, StringComparison.Ordinal);
            Assert.NotEmpty(Directory.EnumerateFiles(mails));
            Assert.Contains($"http://localhost:{system.WebAppPort}/activate?token=", MimeKit.MimeMessage.Load(Directory.EnumerateFiles(mails).First(), TestContext.Current.CancellationToken).TextBody, StringComparison.Ordinal);

            await system.StopAsync();

            foreach (var port in system.Ports)
            {
                Assert.False(RunLocalSystem.IsListening(port), $"port {port} still listens after stopping run-local.sh");
            }

            Assert.Contains("stopped", system.Output, StringComparison.Ordinal);
        }
        finally
        {
            await system.DisposeAsync();
        }
    }
}
