using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// The no-container route of the README, proven: scripts/run-local.sh brings MovieDb up as real
/// processes on the real servers (user store on LiteDB, a local SMTP server), the shared scenarios
/// pass through its gateway — new accounts activated through the mails it says where to find — and
/// Ctrl-C (SIGTERM) stops every service it started.
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

            // The internal services listen only on loopback ports of their own, and nothing in the
            // gateway's answers points at them.
            using var client = system.CreateClient();
            var document = await client.GetStringAsync("/openapi/v1.json", TestContext.Current.CancellationToken);
            Assert.DoesNotContain(system.MovieServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture), document, StringComparison.Ordinal);
            Assert.Contains("MovieDb is running.", system.Output, StringComparison.Ordinal);
            Assert.Contains($"password \"{MovieDbSystem.AdminPassword}\"", system.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(system.StateDirectory, "users.db")), "the LiteDB user store is in the state folder");
            Assert.True(File.Exists(Path.Combine(system.StateDirectory, "logs", "Gateway.log")), "one log file per service");

            // The web app comes up too, its address printed first, its keys kept in the state folder.
            var output = system.Output;
            Assert.True(
                output.IndexOf($"Web app:   http://localhost:{system.WebAppPort}", StringComparison.Ordinal) is var webApp and >= 0
                && webApp < output.IndexOf("Gateway:", StringComparison.Ordinal),
                "run-local.sh prints the web app's URL first");
            using (var browser = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{system.WebAppPort}/"), Timeout = TimeSpan.FromSeconds(30) })
            {
                var signIn = await browser.GetStringAsync("/signin", TestContext.Current.CancellationToken);
                Assert.Contains("<h1>Sign in</h1>", signIn, StringComparison.Ordinal);
            }

            Assert.NotEmpty(Directory.GetFiles(Path.Combine(system.StateDirectory, "webapp-keys"), "key-*.xml"));

            // A newcomer is told where the activation mails land, and that is where they are, with
            // links to the web app's activation page.
            var mails = Path.Combine(system.StateDirectory, "mail", "new");
            Assert.Contains($"activation mails land in {mails}/", system.Output, StringComparison.Ordinal);
            Assert.NotEmpty(Directory.EnumerateFiles(mails));
            Assert.Contains($"http://localhost:{system.WebAppPort}/activate?token=", MimeKit.MimeMessage.Load(Directory.EnumerateFiles(mails).First(), TestContext.Current.CancellationToken).TextBody, StringComparison.Ordinal);

            await system.StopAsync();

            foreach (var port in new[] { system.WebAppPort, system.GatewayPort, system.MovieServicePort, system.UserServicePort, system.NotificationServicePort, system.SmtpPort })
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
