using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using MovieDb.Messaging;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using RabbitMQ.Client;
using UserService.Contracts;
using UserService.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Activation;

/// <summary>
/// Account activation by e-mail, end to end: through the gateway's HTTP API, the user service, the
/// broker, the notification service and a real SMTP server whose mailbox the tests read.
/// </summary>
public sealed class ActivationTests(ActivationSystem system) : IClassFixture<ActivationSystem>
{
    private const string Password = "s3cret-passw0rd";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Maildir Mailbox => system.Mailbox!;

    [Fact]
    public async Task Registering_mails_one_link_that_activates_the_account_and_until_then_sign_in_is_refused_whatever_the_password()
    {
        await system.StartAsync();
        var (user, name, email) = await RegisterAsync("newcomer");

        var mail = (await Mailbox.WaitForAsync(email)).Single();
        Assert.Equal(email, mail.Message.To.Mailboxes.Single().Address);
        Assert.Equal("Activate your MovieDb account", mail.Message.Subject);
        Assert.IsType<MultipartAlternative>(mail.Message.Body);
        Assert.Contains(name, mail.Text, StringComparison.Ordinal);
        Assert.StartsWith(ActivationSystem.ActivationUrl.Replace("{token}", string.Empty, StringComparison.Ordinal), mail.Link.AbsoluteUri, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(mail.Link.AbsoluteUri), mail.Html, StringComparison.Ordinal);

        // Pending: the same 403 for the right and a wrong password, and it says what to do.
        using var right = await LoginAsync(name, Password);
        using var wrong = await LoginAsync(name, "not-the-passw0rd");
        var refused = await ProblemAssert.IsProblemAsync(right, HttpStatusCode.Forbidden);
        var refusedWrong = await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Forbidden);
        Assert.Contains("activate your account", refused.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(refused.GetProperty("title").GetString(), refusedWrong.GetProperty("title").GetString());
        Assert.Equal(refused.GetProperty("detail").GetString(), refusedWrong.GetProperty("detail").GetString());

        using var activated = await ActivateAsync(mail.Token);
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        Assert.Equal(user.Id, (await activated.Content.ReadFromJsonAsync<UserJson>(Ct))!.Id);

        using var login = await LoginAsync(name, Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        using var wrongAfter = await LoginAsync(name, "not-the-passw0rd");
        await ProblemAssert.IsProblemAsync(wrongAfter, HttpStatusCode.Unauthorized);
        Assert.Single(Mailbox.To(email));
    }

    [Fact]
    public async Task Registrations_under_new_sub_addresses_of_one_mailbox_are_refused_as_taken_and_mail_it_once()
    {
        await system.StartAsync();
        var mailbox = $"flood{Guid.NewGuid():N}"[..20];
        using var client = system.CreateClient();
        using var first = await client.PostAsJsonAsync("/api/auth/register", new { userName = mailbox, email = $"{mailbox}+1@example.test", password = Password }, Ct);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // Each would be a new account, and a new activation mail to the same person.
        string[] others = [$"{mailbox}+2@example.test", $"{mailbox}@example.test", $"{mailbox.ToUpperInvariant()}+x@EXAMPLE.test"];
        for (var i = 0; i < others.Length; i++)
        {
            using var again = await client.PostAsJsonAsync("/api/auth/register", new { userName = $"{mailbox[..15]}n{i}", email = others[i], password = Password }, Ct);
            await ProblemAssert.IsProblemAsync(again, HttpStatusCode.Conflict);
        }

        await Mailbox.WaitForAsync($"{mailbox}+1@example.test");
        await SentinelMailAsync();
        Assert.All(others, address => Assert.Empty(Mailbox.To(address)));
        Assert.Single(Mailbox.To($"{mailbox}+1@example.test"));
    }

    [Fact]
    public async Task An_activation_link_activates_once_and_a_second_use_answers_the_same_and_changes_nothing()
    {
        await system.StartAsync();
        var (user, name, email) = await RegisterAsync("twice");
        var mail = (await Mailbox.WaitForAsync(email)).Single();

        using var first = await ActivateAsync(mail.Token);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var stored = await StoredAsync(user.Id);

        using var second = await ActivateAsync(mail.Token);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(user.Id, (await second.Content.ReadFromJsonAsync<UserJson>(Ct))!.Id);
        var after = await StoredAsync(user.Id);
        Assert.Equal((stored.Version, stored.UpdatedAt, stored.ActivatedAt), (after.Version, after.UpdatedAt, after.ActivatedAt));

        using var login = await LoginAsync(name, Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);

        // A well-formed token nobody was given is refused.
        using var unknown = await ActivateAsync(WebEncoders.Base64UrlEncode(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).ToArray()));
        await ProblemAssert.IsProblemAsync(unknown, HttpStatusCode.BadRequest);

        // Once it would have expired, the used link is as dead as any other: an old mail tells nothing.
        system.Clock.Offset = TimeSpan.FromHours(48) + TimeSpan.FromMinutes(1);
        try
        {
            using var old = await ActivateAsync(mail.Token);
            var problem = await ProblemAssert.IsProblemAsync(old, HttpStatusCode.BadRequest);
            Assert.DoesNotContain(email, problem.ToString(), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task Each_new_link_waits_twice_as_long_as_the_one_before()
    {
        await system.StartAsync();
        var (_, name, email) = await RegisterAsync("backoff");
        await Mailbox.WaitForAsync(email);

        try
        {
            // One minute after the registration's link: a second link.
            system.Clock.Offset = TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(10);
            using (var second = await SendLinkAsync(new { userName = name }))
            {
                Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
            }

            await Mailbox.WaitForAsync(email, 2);

            // A minute and a half after the second: not yet (the wait is now two minutes).
            system.Clock.Offset = TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(40);
            Assert.Equal("the last link was sent too recently", await NoMailDecisionAsync(new { userName = name }));
            Assert.Equal(2, Mailbox.To(email).Count);

            // Two minutes after the second: the third.
            system.Clock.Offset = TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(20);
            using (var third = await SendLinkAsync(new { email }))
            {
                Assert.Equal(HttpStatusCode.Accepted, third.StatusCode);
            }

            await Mailbox.WaitForAsync(email, 3);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }
    }

    [Fact]
    public async Task A_new_e_mail_address_takes_effect_only_through_the_link_mailed_to_it()
    {
        await system.StartAsync();
        var user = await system.NewUserAsync("mover");
        var oldEmail = $"{user.UserName}@example.test";
        var newEmail = $"new-{user.UserName}@example.test";
        using var client = user.CreateClient();

        using (var changed = await client.PutAsJsonAsync($"/api/users/{user.Id}", new { email = newEmail, currentPassword = user.Password }, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal(oldEmail, (await changed.Content.ReadFromJsonAsync<UserJson>(Ct))!.Email);
        }

        // Nothing changes until the link mailed to the new address is used, and the old one is not told a link.
        var mail = (await Mailbox.WaitForAsync(newEmail)).Single();
        Assert.Equal("Confirm your new MovieDb e-mail address", mail.Message.Subject);
        Assert.Contains("for=email", mail.Link.Query, StringComparison.Ordinal);
        Assert.Equal(oldEmail, await EmailOfAsync(client));
        Assert.Single(Mailbox.To(oldEmail));

        using (var confirmed = await ActivateAsync(mail.Token))
        {
            Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
            Assert.Equal(newEmail, (await confirmed.Content.ReadFromJsonAsync<UserJson>(Ct))!.Email);
        }

        Assert.Equal(newEmail, await EmailOfAsync(client));

        // The old address is free again; an address someone else took meanwhile cannot be confirmed.
        var third = $"third-{user.UserName}@example.test";
        system.Clock.Offset = TimeSpan.FromMinutes(3);
        try
        {
            using (var again = await client.PutAsJsonAsync($"/api/users/{user.Id}", new { email = third, currentPassword = user.Password }, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            }

            var link = (await Mailbox.WaitForAsync(third)).Single();
            var squatter = $"squat{Guid.NewGuid():N}"[..20];
            using (var anon = system.CreateClient())
            using (var taken = await anon.PostAsJsonAsync("/api/auth/register", new { userName = squatter, email = third, password = Password }, Ct))
            {
                Assert.Equal(HttpStatusCode.Created, taken.StatusCode);
            }

            using var refused = await ActivateAsync(link.Token);
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.Conflict);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }

        Assert.Equal(newEmail, await EmailOfAsync(client));
    }

    [Fact]
    public async Task An_account_never_activated_is_removed_after_its_lifetime_and_its_name_and_address_are_free_again()
    {
        await system.StartAsync();
        var (user, name, email) = await RegisterAsync("abandoned");
        var mail = (await Mailbox.WaitForAsync(email)).Single();

        // Seven days and a minute later (the default lifetime): no new link is sent for it, and the
        // purge (every second in these tests) removes it.
        system.Clock.Offset = TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1);
        try
        {
            // Refused as about to be removed, or not found if the purge was quicker.
            Assert.Contains(await NoMailDecisionAsync(new { email }), new[] { "never activated and about to be removed", "no such account" });
            Assert.Single(Mailbox.To(email));

            var store = system.UserService.Services.GetRequiredService<IUserStore>();
            await Wait.UntilAsync(async () => await store.FindByIdAsync(user.Id, Ct) is null, "the abandoned account is purged");
            using var old = await ActivateAsync(mail.Token);
            await ProblemAssert.IsProblemAsync(old, HttpStatusCode.BadRequest);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }

        // The name and the address are free: the person who owns the mailbox can have them.
        using var client = system.CreateClient();
        using var registered = await client.PostAsJsonAsync("/api/auth/register", new { userName = name, email, password = Password }, Ct);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        Assert.NotEqual(user.Id, (await registered.Content.ReadFromJsonAsync<UserJson>(Ct))!.Id);
        Assert.Equal(2, (await Mailbox.WaitForAsync(email, 2)).Count);
    }

    [Fact]
    public async Task An_expired_link_is_refused_and_a_new_one_replaces_it()
    {
        await system.StartAsync();
        var (_, name, email) = await RegisterAsync("late");
        var first = (await Mailbox.WaitForAsync(email)).Single();

        // Two days and a minute later (the default lifetime is 48 hours). Only commands go to the user
        // service while its clock is ahead: a query would look expired to it.
        system.Clock.Offset = TimeSpan.FromHours(48) + TimeSpan.FromMinutes(1);
        try
        {
            using var expired = await ActivateAsync(first.Token);
            var problem = await ProblemAssert.IsProblemAsync(expired, HttpStatusCode.BadRequest);
            Assert.Contains("expired", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

            using var again = await SendLinkAsync(new { userName = name });
            Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
            var second = (await Mailbox.WaitForAsync(email, 2))[1];
            Assert.NotEqual(first.Token, second.Token);
            Assert.Equal("Your new MovieDb activation link", second.Message.Subject);

            using var activated = await ActivateAsync(second.Token);
            Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
            using var old = await ActivateAsync(first.Token);
            await ProblemAssert.IsProblemAsync(old, HttpStatusCode.BadRequest);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }

        using var login = await LoginAsync(name, Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task A_new_link_is_sent_at_most_once_a_minute_and_the_one_before_it_stops_working()
    {
        await system.StartAsync();
        var (_, name, email) = await RegisterAsync("resend");
        var first = (await Mailbox.WaitForAsync(email)).Single();

        // Within the minute after the first link: accepted, and nothing is sent.
        using var tooSoon = await SendLinkAsync(new { email });
        Assert.Equal(HttpStatusCode.Accepted, tooSoon.StatusCode);

        system.Clock.Offset = TimeSpan.FromMinutes(2);
        try
        {
            using var later = await SendLinkAsync(new { userName = name.ToUpperInvariant() });
            Assert.Equal(HttpStatusCode.Accepted, later.StatusCode);
            var mails = await Mailbox.WaitForAsync(email, 2);
            Assert.Equal(2, mails.Count);

            using var replaced = await ActivateAsync(first.Token);
            await ProblemAssert.IsProblemAsync(replaced, HttpStatusCode.BadRequest);
            using var activated = await ActivateAsync(mails[1].Token);
            Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }

        Assert.Equal(2, Mailbox.To(email).Count);
    }

    [Fact]
    public async Task Asking_for_a_link_for_an_unknown_or_active_account_answers_202_and_mails_nothing()
    {
        await system.StartAsync();
        var active = await system.NewUserAsync("active");
        var activeEmail = $"{active.UserName}@example.test";
        var (_, _, pendingEmail) = await RegisterAsync("pending");
        await Mailbox.WaitForAsync(pendingEmail);
        var unknownEmail = $"nobody-{Guid.NewGuid():N}@example.test";

        system.Clock.Offset = TimeSpan.FromMinutes(2);
        try
        {
            Assert.Equal("no such account", await NoMailDecisionAsync(new { email = unknownEmail }));
            Assert.Equal("no such account", await NoMailDecisionAsync(new { userName = "nobody-" + Guid.NewGuid().ToString("N")[..8] }));
            Assert.Equal("already active", await NoMailDecisionAsync(new { userName = active.UserName }));
            Assert.Equal("already active", await NoMailDecisionAsync(new { email = activeEmail }));

            // The same answer for the one account that does get a link.
            using var pending = await SendLinkAsync(new { email = pendingEmail });
            Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
            Assert.Empty(await pending.Content.ReadAsByteArrayAsync(Ct));
            await Mailbox.WaitForAsync(pendingEmail, 2);
        }
        finally
        {
            system.Clock.Offset = TimeSpan.Zero;
        }

        Assert.Empty(Mailbox.To(unknownEmail));
        Assert.Single(Mailbox.To(activeEmail));
    }

    [Fact]
    public async Task With_the_SMTP_server_down_the_mail_waits_and_is_sent_once_the_server_is_back()
    {
        await system.StartAsync();
        string email;
        await system.Smtp.StopAsync();
        try
        {
            (_, _, email) = await RegisterAsync("outage");
            await Wait.UntilAsync(async () => await system.NotificationHealthAsync() == "Degraded", "the notification service has tried and failed to send");
        }
        finally
        {
            await system.Smtp.StartAsync();
        }

        var mail = (await Mailbox.WaitForAsync(email)).Single();
        using var activated = await ActivateAsync(mail.Token);
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        await Wait.UntilAsync(async () => await system.NotificationHealthAsync() == "Healthy", "the notification service is healthy again");
        Assert.Equal(0u, await system.VirtualHost.MessageCountAsync(Topology.DeadLetterQueueFor(ActivationSystem.NotificationQueue)));
        Assert.Single(Mailbox.To(email));
    }

    [Fact]
    public async Task An_event_that_comes_twice_sends_its_mail_once()
    {
        await system.StartAsync();
        var repeated = NewEvent("repeated");
        await PublishAsync(repeated);
        await PublishAsync(repeated);
        var mail = (await Mailbox.WaitForAsync(repeated.Email)).Single();
        Assert.Equal(repeated.ActivationToken, mail.Token);

        // Published after both copies: once its mail is here, a second copy would have been sent too.
        var later = NewEvent("later");
        await PublishAsync(later);
        await Mailbox.WaitForAsync(later.Email);
        Assert.Single(Mailbox.To(repeated.Email));
    }

    [Fact]
    public async Task An_activation_event_the_user_service_did_not_sign_is_dead_lettered_unauthenticated_and_mails_nothing()
    {
        await system.StartAsync();
        var forged = NewEvent("forged");
        var deadLetters = Topology.DeadLetterQueueFor(ActivationSystem.NotificationQueue);

        // Anyone who may publish to moviedb.events could otherwise have any address mailed any link.
        await PublishAsync(forged, signed: false);
        List<BasicGetResult> dead = [];
        await Wait.UntilAsync(async () => (dead = [.. dead, .. await RawMessages.DrainAsync(system.VirtualHost, deadLetters)]).Count >= 1, "the made-up event is set aside");
        Assert.Equal("unauthenticated", RawMessages.Header(dead.Single(), Topology.DeadLetterReasonHeader));

        var genuine = NewEvent("genuine");
        await PublishAsync(genuine);
        await Mailbox.WaitForAsync(genuine.Email);
        Assert.Empty(Mailbox.To(forged.Email));
    }

    [Fact]
    public async Task A_mail_the_SMTP_server_refuses_for_good_is_dead_lettered_at_once_with_its_token()
    {
        await system.StartAsync();
        var refused = NewEvent("refused");
        var deadLetters = Topology.DeadLetterQueueFor(ActivationSystem.NotificationQueue);

        // A server that takes no message over 200 bytes answers 552: permanent, not worth retrying.
        await system.Smtp.StopAsync();
        await system.Smtp.StartAsync(maxMessageSize: 200);
        try
        {
            await PublishAsync(refused);
            await Wait.UntilAsync(async () => await system.VirtualHost.MessageCountAsync(deadLetters) == 1, "the refused mail's event is dead-lettered");
        }
        finally
        {
            await system.Smtp.StopAsync();
            await system.Smtp.StartAsync();
        }

        await using var connection = await system.VirtualHost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
        var dead = await channel.BasicGetAsync(deadLetters, autoAck: true, Ct);
        Assert.NotNull(dead);
        // At once: a refusal of the mail itself is final, so the first delivery dead-letters it.
        Assert.Equal("unprocessable", Header(dead, Topology.DeadLetterReasonHeader));
        Assert.Equal(1, Convert.ToInt32(dead.BasicProperties.Headers![Topology.DeliveryAttemptsHeader], System.Globalization.CultureInfo.InvariantCulture));
        // Kept as it was, so that an operator can move it back once the cause is fixed.
        Assert.Equal(refused.ActivationToken, MessageSerializer.Deserialize<UserRegistered>(dead.Body.Span).ActivationToken);
        Assert.Empty(Mailbox.To(refused.Email));
    }

    private async Task<(UserJson User, string Name, string Email)> RegisterAsync(string prefix)
    {
        var name = $"{prefix}{Guid.NewGuid():N}"[..20];
        var email = $"{name}@example.test";
        using var client = system.CreateClient();
        using var response = await client.PostAsJsonAsync("/api/auth/register", new { userName = name, email, password = Password }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"register: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        return ((await response.Content.ReadFromJsonAsync<UserJson>(Ct))!, name, email);
    }

    /// <summary>
    /// Registers a new account and waits for its mail: activation requests and registrations share the
    /// user service's command queue, so any link asked for before it would have been mailed by then.
    /// </summary>
    private async Task SentinelMailAsync()
    {
        var (_, _, email) = await RegisterAsync("sentinel");
        await Mailbox.WaitForAsync(email);
    }

    private static async Task<string> EmailOfAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<UserJson>("/api/users/me", Ct))!.Email;

    private async Task<HttpResponseMessage> LoginAsync(string userName, string password)
    {
        using var client = system.CreateClient();
        return await client.PostAsJsonAsync("/api/auth/login", new { userName, password }, Ct);
    }

    private async Task<HttpResponseMessage> ActivateAsync(string token)
    {
        using var client = system.CreateClient();
        return await client.PostAsJsonAsync("/api/auth/activate", new { token }, Ct);
    }

    /// <summary>
    /// Asks for a new link (202) and waits until the user service has decided to send none; returns
    /// its reason. (A mailbox cannot show that nothing will come; the decision can.)
    /// </summary>
    private async Task<string> NoMailDecisionAsync(object body)
    {
        const string NoMail = "No activation mail sent: ";
        var before = system.ActivationLog.Count(NoMail);
        using (var response = await SendLinkAsync(body))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
        }

        await system.ActivationLog.WaitForAsync(NoMail, before, "the user service's decision to send no activation link");
        return system.ActivationLog.Messages.Last(m => m.StartsWith(NoMail, StringComparison.Ordinal))[NoMail.Length..];
    }

    private async Task<HttpResponseMessage> SendLinkAsync(object body)
    {
        using var client = system.CreateClient();
        return await client.PostAsJsonAsync("/api/auth/activation-email", body, Ct);
    }

    private async Task<UserService.Model.User> StoredAsync(string id) =>
        await system.UserService.Services.GetRequiredService<IUserStore>().FindByIdAsync(id, Ct) ?? throw new InvalidOperationException($"user {id} is not stored");

    private static UserRegistered NewEvent(string prefix)
    {
        var name = $"{prefix}{Guid.NewGuid():N}"[..20];
        return new UserRegistered(Guid.NewGuid().ToString(), Guid.NewGuid().ToString(), name, $"{name}@example.test",
            WebEncoders.Base64UrlEncode(Guid.NewGuid().ToByteArray().Concat(Guid.NewGuid().ToByteArray()).ToArray()), DateTimeOffset.UtcNow.AddHours(48), DateTimeOffset.UtcNow);
    }

    /// <summary>Publishes an event as the user service would (each publish a new message id), or made up by someone without its key.</summary>
    private async Task PublishAsync(UserRegistered message, bool signed = true)
    {
        await using var connection = await system.VirtualHost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), Ct);
        var properties = new BasicProperties
        {
            MessageId = Guid.NewGuid().ToString(),
            Type = MessageMetadata.Of<UserRegistered>().Type,
            ContentType = MessageSerializer.ContentType,
            Persistent = true,
        };
        var body = MessageSerializer.Serialize(message);
        await channel.BasicPublishAsync(Topology.EventsExchange, properties.Type, mandatory: false, signed ? RawMessages.SignedEvent(properties, body) : properties, body, Ct);
    }

    private static string? Header(BasicGetResult message, string name) =>
        message.BasicProperties.Headers?.TryGetValue(name, out var value) == true && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;
}
