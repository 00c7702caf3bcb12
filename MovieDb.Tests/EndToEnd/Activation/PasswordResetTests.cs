using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using MimeKit;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Activation;

/// <summary>
/// A forgotten password, end to end: the gateway's HTTP API, the user service, the broker, the
/// notification service and a real SMTP server whose mailbox the tests read.
/// </summary>
public sealed class PasswordResetTests(ActivationSystem system) : IClassFixture<ActivationSystem>
{
    private const string ResetSubject = "Reset your MovieDb password";

    // What the user service logs when it decides to send nothing: the positive signal that a request
    // was handled, where a mailbox could only show an absence.
    private const string NoResetMail = "No password-reset mail sent: ";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Maildir Mailbox => system.Mailbox!;

    [Fact]
    public async Task A_forgotten_password_is_reset_from_the_mailed_link_and_every_older_session_ends()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("forgetful");
        var email = $"{user.UserName}@example.test";

        // Typed as a person might: another case and a sub-address of the same mailbox. The mail goes to
        // the account's own address, never to what was typed.
        using (var asked = await RequestAsync(new { email = $"{user.UserName.ToUpperInvariant()}+typo@Example.Test" }))
        {
            Assert.Equal(HttpStatusCode.Accepted, asked.StatusCode);
            Assert.Empty(await asked.Content.ReadAsByteArrayAsync(Ct));
        }

        var mail = (await ResetMailsAsync(email, 1)).Single();
        Assert.Equal(email, mail.Message.To.Mailboxes.Single().Address);
        Assert.IsType<MultipartAlternative>(mail.Message.Body);
        Assert.Contains(user.UserName, mail.Text, StringComparison.Ordinal);
        Assert.StartsWith(ActivationSystem.PasswordResetUrl.Replace("{token}", string.Empty, StringComparison.Ordinal), mail.Link.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(mail.Link.AbsoluteUri), mail.Html, StringComparison.Ordinal);
        Assert.StartsWith("password-reset.", mail.Message.MessageId, StringComparison.Ordinal);

        const string newPassword = "a-new-passw0rd-42";
        using (var reset = await ConfirmAsync(mail.Token, newPassword))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);

            // Not signed in: no tokens in the answer.
            Assert.DoesNotContain("accessToken", await reset.Content.ReadAsStringAsync(Ct), StringComparison.OrdinalIgnoreCase);
        }

        using var oldPassword = await LoginAsync(user.UserName, user.Password);
        await ProblemAssert.IsProblemAsync(oldPassword, HttpStatusCode.Unauthorized);
        using var withNew = await LoginAsync(user.UserName, newPassword);
        Assert.Equal(HttpStatusCode.OK, withNew.StatusCode);

        // The session opened before the reset is over: its access token and its refresh token.
        using var oldSession = user.CreateClient();
        await ProblemAssert.IsProblemAsync(await oldSession.GetAsync("/api/users/me", Ct), HttpStatusCode.Unauthorized);
        using var anonymous = system.CreateClient();
        using var refresh = await anonymous.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = user.Tokens.RefreshToken }, Ct);
        await ProblemAssert.IsProblemAsync(refresh, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_reset_link_works_once_and_a_password_that_breaks_the_rules_does_not_use_it_up()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("once");
        var email = $"{user.UserName}@example.test";
        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        var token = (await ResetMailsAsync(email, 1)).Single().Token;

        // Too short: refused, and the link still works.
        using (var weak = await ConfirmAsync(token, "short"))
        {
            var problem = await ProblemAssert.IsProblemAsync(weak, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("newPassword", out _));
        }

        using (var first = await ConfirmAsync(token, "first-new-passw0rd"))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        using (var second = await ConfirmAsync(token, "second-new-passw0rd"))
        {
            var problem = await ProblemAssert.IsProblemAsync(second, HttpStatusCode.BadRequest);
            Assert.Contains("already used", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using var login = await LoginAsync(user.UserName, "first-new-passw0rd");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task Two_uses_of_one_link_at_the_same_moment_set_exactly_one_password()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("racer");
        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        var token = (await ResetMailsAsync($"{user.UserName}@example.test", 1)).Single().Token;

        // Both read the account with the token unused; the version check lets one write win, and the
        // other, read again, finds the token used.
        var passwords = Enumerable.Range(0, 4).Select(i => $"racing-passw0rd-{i}").ToArray();
        var answers = await Task.WhenAll(passwords.Select(async password =>
        {
            using var response = await ConfirmAsync(token, password);
            return (password, response.StatusCode);
        }));

        var winner = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
        Assert.All(answers.Where(a => a != winner), a => Assert.Equal(HttpStatusCode.BadRequest, a.StatusCode));
        using var login = await LoginAsync(user.UserName, winner.password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_reset_link_expires_after_an_hour_and_the_password_stays_as_it_was()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("late");
        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        var token = (await ResetMailsAsync($"{user.UserName}@example.test", 1)).Single().Token;
        system.Clock.Offset = TimeSpan.FromMinutes(61);
        try
        {
            using var late = await ConfirmAsync(token, "too-late-passw0rd");
            var problem = await ProblemAssert.IsProblemAsync(late, HttpStatusCode.BadRequest);
            Assert.Contains("expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }

        using var login = await LoginAsync(user.UserName, user.Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_newer_link_replaces_the_older_one_and_each_new_mail_waits_twice_as_long()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("twice");
        var email = $"{user.UserName}@example.test";
        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        var first = (await ResetMailsAsync(email, 1)).Single();
        try
        {
            // At once: nothing (the wait is a minute).
            Assert.EndsWith("too recently", await NoMailDecisionAsync(new { email }));
            Assert.Single(ResetMails(email));

            system.Clock.Offset = TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(10);
            using (await RequestAsync(new { email }))
            {
            }

            var second = (await ResetMailsAsync(email, 2))[^1];
            Assert.NotEqual(first.Token, second.Token);

            // A minute and a half after the second: not yet (the wait is now two minutes).
            system.Clock.Offset = TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(40);
            Assert.EndsWith("too recently", await NoMailDecisionAsync(new { userName = user.UserName }));
            Assert.Equal(2, ResetMails(email).Count);

            using (var replaced = await ConfirmAsync(first.Token, "from-the-old-link-1"))
            {
                var problem = await ProblemAssert.IsProblemAsync(replaced, HttpStatusCode.BadRequest);
                Assert.Contains("A newer password-reset link was sent", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            }

            using var current = await ConfirmAsync(second.Token, "from-the-new-link-2");
            Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Unknown_and_never_activated_accounts_get_the_same_202_and_no_mail()
    {
        await system.StartAsync();
        var pendingName = $"pending{Guid.NewGuid():N}"[..20];
        var pendingEmail = $"{pendingName}@example.test";
        using (var client = system.CreateClient())
        using (var register = await client.PostAsJsonAsync("/api/auth/register", new { userName = pendingName, email = pendingEmail, password = "s3cret-passw0rd" }, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, register.StatusCode);
        }

        var unknown = $"nobody{Guid.NewGuid():N}"[..20];
        Assert.EndsWith("no such account", await NoMailDecisionAsync(new { userName = unknown }));
        Assert.EndsWith("no such account", await NoMailDecisionAsync(new { email = $"{unknown}@example.test" }));
        Assert.EndsWith("not activated yet", await NoMailDecisionAsync(new { userName = pendingName }));
        Assert.EndsWith("not activated yet", await NoMailDecisionAsync(new { email = pendingEmail }));

        // The activation mail aside (it may still be on its way), nothing went to either.
        await Mailbox.WaitForAsync(pendingEmail);
        Assert.Empty(Mailbox.To($"{unknown}@example.test"));
        Assert.Empty(ResetMails(pendingEmail));
        Assert.Single(Mailbox.To(pendingEmail));
    }

    [Fact]
    public async Task A_new_password_or_a_new_address_ends_a_reset_link_mailed_before()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("changer");
        var email = $"{user.UserName}@example.test";
        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        var token = (await ResetMailsAsync(email, 1)).Single().Token;
        using (var client = user.CreateClient())
        using (var changed = await client.PutAsJsonAsync($"/api/users/{user.Id}", new { password = "changed-passw0rd", currentPassword = user.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        // Whoever reads the old mail cannot undo the change.
        using (var stale = await ConfirmAsync(token, "attacker-passw0rd"))
        {
            await ProblemAssert.IsProblemAsync(stale, HttpStatusCode.BadRequest);
        }

        using var login = await LoginAsync(user.UserName, "changed-passw0rd");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        // The same for an address an admin set: a link in the old mailbox dies with it.
        var other = await system.NewUserAsync("moved");
        var otherEmail = $"{other.UserName}@example.test";
        using (await RequestAsync(new { userName = other.UserName }))
        {
        }

        var otherToken = (await ResetMailsAsync(otherEmail, 1)).Single().Token;
        var admin = await system.SignInAsAdminAsync();
        using (var adminClient = admin.CreateClient())
        using (var moved = await adminClient.PutAsJsonAsync($"/api/users/{other.Id}", new { email = $"moved-{other.UserName}@example.test" }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        using var fromOldMailbox = await ConfirmAsync(otherToken, "attacker-passw0rd");
        await ProblemAssert.IsProblemAsync(fromOldMailbox, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task An_admin_resets_only_their_own_password_through_their_own_mailbox()
    {
        await system.StartAsync();
        var bootstrap = await system.SignInAsAdminAsync();
        var other = await system.NewUserAsync("otheradmin");
        var otherEmail = $"{other.UserName}@example.test";
        using var bootstrapClient = bootstrap.CreateClient();
        using (var promoted = await bootstrapClient.PutAsJsonAsync($"/api/users/{other.Id}", new { roles = new[] { "admin", "user" } }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        }

        // One admin asks for the other's reset: the link goes to the other's mailbox and nowhere else,
        // and the asking admin can neither move that account's address nor set its password.
        using (await RequestAsync(new { userName = other.UserName }))
        {
        }

        var mail = (await ResetMailsAsync(otherEmail, 1)).Single();
        Assert.Equal(otherEmail, mail.Message.To.Mailboxes.Single().Address);
        Assert.Empty(ResetMails("admin@moviedb.local"));
        using (var redirect = await bootstrapClient.PutAsJsonAsync($"/api/users/{other.Id}", new { email = "admin-inbox@example.test" }, Ct))
        {
            await ProblemAssert.IsProblemAsync(redirect, HttpStatusCode.Forbidden);
        }

        using (var set = await bootstrapClient.PutAsJsonAsync($"/api/users/{other.Id}", new { password = "chosen-by-another" }, Ct))
        {
            await ProblemAssert.IsProblemAsync(set, HttpStatusCode.Forbidden);
        }

        // The admin who holds the mailbox resets their own password like anyone.
        using (var reset = await ConfirmAsync(mail.Token, "admin-new-passw0rd"))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        using var login = await LoginAsync(other.UserName, "admin-new-passw0rd");
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_reset_drops_a_new_address_that_was_asked_for_with_the_old_password()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("owner");
        var ownEmail = $"{user.UserName}@example.test";
        var theirs = $"intruder-{user.UserName}@example.test";

        // Someone who learnt the password asks to move the account to their mailbox...
        using (var client = user.CreateClient())
        using (var moved = await client.PutAsJsonAsync($"/api/users/{user.Id}", new { email = theirs, currentPassword = user.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        }

        var confirmation = (await Mailbox.WaitForAsync(theirs)).Single();

        // ...the owner resets the password from their own mailbox...
        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        using (var reset = await ConfirmAsync((await ResetMailsAsync(ownEmail, 1)).Single().Token, "owner-again-passw0rd"))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        // ...and the link in the other mailbox no longer moves the account (then a reset would go there).
        using (var activate = await system.CreateClient().PostAsJsonAsync("/api/auth/activate", new { token = confirmation.Token }, Ct))
        {
            await ProblemAssert.IsProblemAsync(activate, HttpStatusCode.BadRequest);
        }

        var owner = await system.SignInAsync(user.UserName, "owner-again-passw0rd", user.Id);
        using var ownerClient = owner.CreateClient();
        Assert.Equal(ownEmail, (await ownerClient.GetFromJsonAsync<UserJson>("/api/users/me", Ct))!.Email);
    }

    [Fact]
    public async Task An_address_another_admin_set_gets_no_reset_link_once_the_account_is_an_admin_until_the_account_proves_its_own()
    {
        await system.StartAsync();
        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var user = await system.NewUserAsync("promoted");
        var adminsMailbox = $"kept-by-admin-{user.UserName}@example.test";

        // While the account is a user's, the admin may set its address: it is now the admin's mailbox.
        using (var set = await adminClient.PutAsJsonAsync($"/api/users/{user.Id}", new { email = adminsMailbox }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        using (await RequestAsync(new { userName = user.UserName }))
        {
        }

        var early = (await ResetMailsAsync(adminsMailbox, 1)).Single().Token;
        using (var promoted = await adminClient.PutAsJsonAsync($"/api/users/{user.Id}", new { roles = new[] { "admin", "user" } }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, promoted.StatusCode);
        }

        try
        {
            // The link mailed before the promotion died with it; a new one is not sent to that mailbox.
            using (var stale = await ConfirmAsync(early, "admins-choice-passw0rd"))
            {
                await ProblemAssert.IsProblemAsync(stale, HttpStatusCode.BadRequest);
            }

            system.Clock.Offset = TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(10);
            Assert.EndsWith("not proven by the account", await NoMailDecisionAsync(new { userName = user.UserName }));
            Assert.Single(ResetMails(adminsMailbox));

            // The account proves an address of its own: from then on its resets go there. (Signed in on
            // the real clock: the gateway checks an access token's times by it.)
            system.Clock.Offset = TimeSpan.Zero;
            var ownEmail = $"own-{user.UserName}@example.test";
            var self = await system.SignInAsync(user.UserName, user.Password, user.Id);
            using (var selfClient = self.CreateClient())
            using (var changed = await selfClient.PutAsJsonAsync($"/api/users/{user.Id}", new { email = ownEmail, currentPassword = user.Password }, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            }

            using (var confirmed = await system.CreateClient().PostAsJsonAsync("/api/auth/activate", new { token = (await Mailbox.WaitForAsync(ownEmail)).Single().Token }, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
            }

            system.Clock.Offset = TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(10);
            using (await RequestAsync(new { userName = user.UserName }))
            {
            }

            using var reset = await ConfirmAsync((await ResetMailsAsync(ownEmail, 1)).Single().Token, "own-choice-passw0rd");
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }
    }

    /// <summary>
    /// Writes down what an attacker timing the answer would see (the figure is in the note):
    /// the gateway answers before the user service has read the request, so the two cases are the
    /// same code path; asserted are the answers themselves, never a time.
    /// </summary>
    [Fact]
    public async Task An_existing_and_an_unknown_account_get_the_same_answer_and_the_times_are_written_down()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("timed");
        var unknown = $"unknown{Guid.NewGuid():N}"[..20];
        using var client = system.CreateClient();
        var times = new Dictionary<string, List<double>> { ["existing"] = [], ["unknown"] = [] };
        var answers = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 41; i++)
        {
            // Interleaved, existing first on even rounds, unknown first on odd ones; the first pair warms up.
            foreach (var (kind, name) in i % 2 == 0 ? new[] { ("existing", user.UserName), ("unknown", unknown) } : new[] { ("unknown", unknown), ("existing", user.UserName) })
            {
                var watch = Stopwatch.StartNew();
                using var response = await client.PostAsJsonAsync("/api/auth/password-reset", new { userName = name }, Ct);
                var body = await response.Content.ReadAsStringAsync(Ct);
                watch.Stop();
                if (i > 0)
                {
                    times[kind].Add(watch.Elapsed.TotalMilliseconds);
                }

                answers.Add($"{(int)response.StatusCode} {Describe(response.Content.Headers)} [{body}] {response.Headers.CacheControl}");
            }
        }

        Assert.Equal(["202 length=0 [] no-store"], answers);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join("; ", times.Select(t =>
            string.Create(CultureInfo.InvariantCulture, $"{t.Key}: median {Percentile(t.Value, 0.5):F2} ms, p90 {Percentile(t.Value, 0.9):F2} ms over {t.Value.Count}"))));
    }

    private static string Describe(HttpContentHeaders headers) => $"length={headers.ContentLength}{headers.ContentType}";

    private static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
    }

    private IReadOnlyList<ReceivedMail> ResetMails(string email) =>
        [.. Mailbox.To(email).Where(m => m.Message.Subject == ResetSubject)];

    private async Task<IReadOnlyList<ReceivedMail>> ResetMailsAsync(string email, int count)
    {
        IReadOnlyList<ReceivedMail> mails = [];
        await Wait.UntilAsync(() => (mails = ResetMails(email)).Count >= count, $"{count} password-reset mail(s) to {email}", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        return mails;
    }

    /// <summary>Asks for a reset link (202) and waits until the user service has decided to send none; returns its reason.</summary>
    private async Task<string> NoMailDecisionAsync(object body)
    {
        var before = system.PasswordResetLog.Count(NoResetMail);
        using (var response = await RequestAsync(body))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
        }

        await system.PasswordResetLog.WaitForAsync(NoResetMail, before, "the user service's decision to send no reset mail");
        return system.PasswordResetLog.Messages.Last(m => m.StartsWith(NoResetMail, StringComparison.Ordinal));
    }

    private async Task<HttpResponseMessage> RequestAsync(object body)
    {
        using var client = system.CreateClient();
        return await client.PostAsJsonAsync("/api/auth/password-reset", body, Ct);
    }

    private async Task<HttpResponseMessage> ConfirmAsync(string token, string newPassword)
    {
        using var client = system.CreateClient();
        return await client.PostAsJsonAsync("/api/auth/password-reset/confirm", new { token, newPassword }, Ct);
    }

    private async Task<HttpResponseMessage> LoginAsync(string userName, string password)
    {
        using var client = system.CreateClient();
        return await client.PostAsJsonAsync("/api/auth/login", new { userName, password }, Ct);
    }
}
