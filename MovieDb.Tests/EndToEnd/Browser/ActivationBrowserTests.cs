using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MovieDb.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace MovieDb.Tests.EndToEnd.Browser;

/// <summary>
/// The mailed activation as a person meets it in the browser: sign up, told to check the mail, refused
/// at sign-in until then, the link from the real mail (delivered by the notification service to a real
/// SMTP server) opens the web app's activation page, one click, and sign-in works.
/// </summary>
public sealed class ActivationBrowserTests(ActivationBrowserTests.System system) : IClassFixture<ActivationBrowserTests.System>
{
    public sealed class System(TestServers servers) : WebAppSystem(servers)
    {
        // A test stops the user service and waits for the gateway's 202.
        protected override IDictionary<string, string?> GatewaySettings => new Dictionary<string, string?> { ["Messaging:RequestTimeout"] = "00:00:03" };
    }

    [Fact]
    public async Task A_person_signs_up_activates_the_account_from_the_mailed_link_and_signs_in()
    {
        system.SkipWithoutBrowser();
        await system.StartMailedActivationAsync();
        var page = await system.NewPageAsync();
        var name = $"newcomer{Guid.NewGuid():N}"[..20];
        var email = $"{name}@example.test";
        const string password = "s3cret-passw0rd";

        await page.GotoAsync("/signup");
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create account" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/signup/check-email"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Check your e-mail" })).ToBeVisibleAsync();

        // Not yet: the sign-in page says why and offers to send the link again.
        await page.GotoAsync("/signin");
        await page.GetByLabel("User name").FillAsync(name);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("Your account is not activated yet")).ToBeVisibleAsync();

        // The link in the mail opens this web app's activation page; one click activates.
        var mail = (await system.Mailbox!.WaitForAsync(email))[^1];
        Assert.StartsWith(new Uri(system.WebAppAddress, "activate?token=").ToString(), mail.Link.AbsoluteUri, StringComparison.Ordinal);
        await page.GotoAsync(mail.Link.AbsoluteUri);
        await page.GetByRole(AriaRole.Button, new() { Name = "Activate my account" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?reason=activated"));
        await Expect(page.GetByText("Your account is active.")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "activated");

        await WebAppSystem.SignInAsync(page, name, password);
    }

    [Fact]
    public async Task A_new_e_mail_address_is_confirmed_from_the_link_mailed_to_it()
    {
        system.SkipWithoutBrowser();
        await system.StartMailedActivationAsync();
        var user = await system.NewUserAsync("mover");
        var newEmail = $"new-{user.UserName}@example.test";
        var page = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, user.Password);

        await page.GetByRole(AriaRole.Link, new() { Name = "Account" }).ClickAsync();
        await page.GetByLabel("New e-mail").FillAsync(newEmail);
        await page.GetByLabel("Password, to confirm it is you").FillAsync(user.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Save e-mail" }).ClickAsync();
        await Expect(page.GetByText($"We sent a link to {newEmail}")).ToBeVisibleAsync();
        await Expect(page.Locator(".facts")).ToContainTextAsync($"{user.UserName}@example.test");

        var mail = (await system.Mailbox!.WaitForAsync(newEmail))[^1];
        await page.GotoAsync(mail.Link.AbsoluteUri);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Confirm your new e-mail address" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm this address" }).ClickAsync();
        await Expect(page.GetByText("Your new e-mail address is confirmed.")).ToBeVisibleAsync();

        await page.GotoAsync("/account");
        await Expect(page.Locator(".facts")).ToContainTextAsync(newEmail);
    }

    [Fact]
    public async Task A_person_who_forgot_their_password_gets_back_in_from_the_sign_in_page_and_their_older_session_ends()
    {
        system.SkipWithoutBrowser();
        await system.StartMailedActivationAsync();
        var user = await system.NewUserAsync("forgot");
        var email = $"{user.UserName}@example.test";
        const string newPassword = "my-new-passw0rd-7";

        // Signed in elsewhere before: that session must end with the reset.
        var elsewhere = await system.NewPageAsync();
        await WebAppSystem.SignInAsync(elsewhere, user.UserName, user.Password);

        var page = await system.NewPageAsync();
        await page.GotoAsync("/signin");
        await page.GetByRole(AriaRole.Link, new() { Name = "Forgot your password?" }).ClickAsync();
        await page.GetByLabel("User name or e-mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send me a link" }).ClickAsync();
        await Expect(page.GetByText("If an account exists with that user name or e-mail address, we sent a link")).ToBeVisibleAsync();

        // The link in the real mail opens this web app's reset page; nothing happens before the button.
        var mail = await ResetMailAsync(email);
        Assert.StartsWith(new Uri(system.WebAppAddress, "reset-password?token=").ToString(), mail.Link.AbsoluteUri, StringComparison.Ordinal);
        await page.GotoAsync(mail.Link.AbsoluteUri);
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Choose a new password" })).ToBeVisibleAsync();
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync(newPassword);
        await page.GetByLabel("New password again").FillAsync(newPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Set my new password" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/signin\\?reason=password-reset$"));
        await Expect(page.GetByText("Your password has changed.")).ToBeVisibleAsync();
        await Chromium.ScreenshotAsync(page, "password-reset");

        // The old password no longer signs in; the new one does.
        await page.GetByLabel("User name").FillAsync(user.UserName);
        await page.GetByLabel("Password").FillAsync(user.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByText("That user name and password do not match an account.")).ToBeVisibleAsync();
        await WebAppSystem.SignInAsync(page, user.UserName, newPassword);

        // The older session's next page sends it to sign in, told why.
        await elsewhere.GotoAsync("/account");
        await Expect(elsewhere).ToHaveURLAsync(new Regex("/signin"));
        await Expect(elsewhere.GetByText("Your session has ended.")).ToBeVisibleAsync();

        // The link worked once: opened again, the page says so and offers a new one.
        await page.GotoAsync(mail.Link.AbsoluteUri);
        await page.GetByLabel("New password", new() { Exact = true }).FillAsync("another-passw0rd");
        await page.GetByLabel("New password again").FillAsync("another-passw0rd");
        await page.GetByRole(AriaRole.Button, new() { Name = "Set my new password" }).ClickAsync();
        await Expect(page.GetByText("This link no longer works")).ToBeVisibleAsync();
        await Expect(page.GetByText("already used")).ToBeVisibleAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Send me a new link" })).ToBeVisibleAsync();
    }

    private async Task<ReceivedMail> ResetMailAsync(string email)
    {
        ReceivedMail? found = null;
        await Wait.UntilAsync(
            () => (found = system.Mailbox!.To(email).LastOrDefault(m => m.Message.Subject == "Reset your MovieDb password")) is not null,
            $"the password-reset mail to {email}",
            TimeSpan.FromSeconds(60));
        return found!;
    }

    [Fact]
    public async Task An_activation_the_user_service_has_not_confirmed_yet_is_not_shown_as_done()
    {
        system.SkipWithoutBrowser();
        var page = await system.NewPageAsync();
        var token = Microsoft.AspNetCore.WebUtilities.WebEncoders.Base64UrlEncode(global::System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        // Nobody answers: the gateway queues the activation and says 202.
        await system.StopUserServiceAsync();
        try
        {
            await page.GotoAsync($"/activate?token={token}");
            await page.GetByRole(AriaRole.Button, new() { Name = "Activate my account" }).ClickAsync();
            await Expect(page.GetByText("not confirmed yet")).ToBeVisibleAsync();
            await Expect(page).ToHaveURLAsync(new Regex("/activate"));
            await Expect(page.GetByText("Your account is active.")).Not.ToBeVisibleAsync();
        }
        finally
        {
            await system.StartUserServiceAsync();
        }
    }
}
