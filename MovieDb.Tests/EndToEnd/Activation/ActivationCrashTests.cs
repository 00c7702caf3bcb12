using System.Net;
using System.Net.Http.Json;
using MovieDb.Messaging;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Activation;

/// <summary>
/// The mailed activation on real processes, as scripts/run-local.sh starts them, with the notification
/// service killed (SIGKILL) while it holds an event it has not acknowledged. What the design
/// guarantees: the mail goes out at least once, and at most twice — twice only when the process dies
/// after the SMTP server accepted the mail and before the mail was recorded as sent. Both copies carry
/// the same working link (same event, same token, same Message-Id).
/// </summary>
public sealed class ActivationCrashTests(TestServers servers)
{
    private const string Password = "s3cret-passw0rd";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class System(TestServers servers) : ProcessSystem(servers)
    {
        protected override bool WithMail => true;

        protected override bool HoldingSmtp => true;
    }

    [Fact]
    public async Task A_notification_service_killed_before_it_acknowledged_an_event_sends_the_mail_once_or_at_worst_twice_and_the_link_works()
    {
        // Skips (fails in CI) inside, saying why, where no SMTP server can run.
        await using var system = new System(servers);
        await system.InitializeAsync();
        var smtp = system.Smtp!;

        // The process launcher runs the real flow: registered, mailed, activated, signed in.
        await Scenarios.UserJourneyAsync(system);

        // Killed before the SMTP server had the mail: it is sent once, after the restart.
        string early;
        await smtp.StopAsync();
        try
        {
            early = await RegisterAsync(system, "early");
            var sender = system.NotificationServices[^1];
            await Wait.UntilAsync(() => sender.Output.Contains("Sending through", StringComparison.Ordinal), "the notification service holds the event and retries the SMTP server");
            sender.Kill();
        }
        finally
        {
            await smtp.StartAsync();
        }

        var restarted = system.StartNotificationService();
        await restarted.WaitUntilHealthyAsync();
        var earlyMail = (await system.Mailbox!.WaitForAsync(early)).Single();

        // Killed after the SMTP server stored the mail, while waiting for its "accepted" (so before the
        // mail was recorded as sent): the redelivered event sends it again.
        string late;
        smtp.Hold();
        try
        {
            late = await RegisterAsync(system, "late");
            await system.Mailbox.WaitForAsync(late);
            restarted.Kill();
        }
        finally
        {
            smtp.Release();
        }

        await system.StartNotificationService().WaitUntilHealthyAsync();
        var lateMails = await system.Mailbox.WaitForAsync(late, 2);

        Assert.Equal(2, lateMails.Count);
        Assert.Equal(lateMails[0].Token, lateMails[1].Token);
        Assert.Equal(lateMails[0].Message.MessageId, lateMails[1].Message.MessageId);
        foreach (var (email, token) in new[] { (early, earlyMail.Token), (late, lateMails[0].Token) })
        {
            using var client = system.CreateClient();
            using var activated = await client.PostAsJsonAsync("/api/auth/activate", new { token }, Ct);
            Assert.True(activated.StatusCode == HttpStatusCode.OK, $"{email}: {(int)activated.StatusCode}");
            using var login = await client.PostAsJsonAsync("/api/auth/login", new { userName = email.Split('@')[0], password = Password }, Ct);
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }

        // The late mail's second copy was sent after the early one's only copy: no second early copy came.
        Assert.Single(system.Mailbox.To(early));
        Assert.Equal(0u, await system.VirtualHost.MessageCountAsync(Topology.DeadLetterQueueFor("notificationservice.events")));
    }

    private static async Task<string> RegisterAsync(MovieDbSystem system, string prefix)
    {
        var name = $"{prefix}{Guid.NewGuid():N}"[..20];
        using var client = system.CreateClient();
        using var response = await client.PostAsJsonAsync("/api/auth/register", new { userName = name, email = $"{name}@example.test", password = Password }, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return $"{name}@example.test";
    }
}
