using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>
/// A running MovieDb, as a client sees it: the gateway's address and the bootstrap admin. The same
/// scenarios run against every launcher (in process, real processes as scripts/run-local.sh starts
/// them, and the Aspire AppHost where it can run).
/// </summary>
public abstract class MovieDbSystem : IAsyncLifetime
{
    public const string AdminUserName = "admin";
    public const string AdminPassword = "admin-password-for-tests";

    /// <summary>A client of the gateway, with no credentials.</summary>
    public abstract HttpClient CreateClient();

    /// <summary>
    /// Where this system's activation mails land, when new accounts must be activated (the real flow:
    /// a notification service and an SMTP server); null when it runs with <c>Accounts:RequireActivation=false</c>.
    /// </summary>
    public virtual Infrastructure.Maildir? Mailbox => null;

    public abstract ValueTask InitializeAsync();

    public abstract ValueTask DisposeAsync();

    /// <summary>Registers a fresh user and signs them in.</summary>
    public async Task<SignedInUser> NewUserAsync(string? prefix = null)
    {
        var name = $"{prefix ?? "user"}{Guid.NewGuid():N}"[..24];
        var password = "s3cret-" + Guid.NewGuid().ToString("N")[..12];
        using var client = CreateClient();
        using var register = await client.PostAsJsonAsync("/api/auth/register", new { userName = name, email = $"{name}@example.test", password }, TestContext.Current.CancellationToken);
        var user = register.StatusCode == HttpStatusCode.Accepted
            ? await RegisteredAsync(client, register.Headers.Location!)
            : await register.Content.ReadFromJsonAsync<UserJson>(TestContext.Current.CancellationToken);
        Assert.True(register.StatusCode is HttpStatusCode.Created or HttpStatusCode.Accepted, $"register: {(int)register.StatusCode} {await register.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        await ActivateIfRequiredAsync(user!.Email);
        return await SignInAsync(name, password, user.Id);
    }

    /// <summary>
    /// A registration the gateway queued (202: the user service did not answer within the request
    /// timeout, which a system with a short one meets under the suite's load): its outcome, once there.
    /// </summary>
    private static async Task<UserJson> RegisteredAsync(HttpClient client, Uri status)
    {
        UserJson? user = null;
        var last = "no answer yet";
        await Wait.UntilAsync(
            async () =>
            {
                // 504: the gateway gave up on the busy user service for this read; ask again.
                using var response = await client.GetAsync(status, TestContext.Current.CancellationToken);
                if (response.StatusCode == HttpStatusCode.GatewayTimeout)
                {
                    last = "the gateway answered 504";
                    return false;
                }

                var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
                Assert.True(response.IsSuccessStatusCode, $"GET {status}: {(int)response.StatusCode} {body}");
                var outcome = JsonSerializer.Deserialize<JsonElement>(body);
                var state = outcome.GetProperty("status").GetString();
                Assert.True(state is "pending" or "succeeded", $"the queued registration: {outcome}");
                last = $"status {state}";
                user = state == "succeeded" ? outcome.GetProperty("user").Deserialize<UserJson>(JsonSerializerOptions.Web) : null;
                return user is not null;
            },
            $"the queued registration {status} succeeds",
            TimeSpan.FromMinutes(2),
            TimeSpan.FromMilliseconds(500),
            lastSeen: () => last);
        return user!;
    }

    /// <summary>When this system mails activation links: waits for the one to <paramref name="email"/> and follows it.</summary>
    public async Task ActivateIfRequiredAsync(string email)
    {
        if (Mailbox is not { } mailbox)
        {
            return;
        }

        var mails = await mailbox.WaitForAsync(email);
        var mail = mails[^1];
        using var client = CreateClient();
        using var activate = await client.PostAsJsonAsync("/api/auth/activate", new { token = mail.Token }, TestContext.Current.CancellationToken);
        Assert.True(activate.StatusCode == HttpStatusCode.OK, $"activate: {(int)activate.StatusCode} {await activate.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
    }

    public async Task<SignedInUser> SignInAsAdminAsync()
    {
        var admin = await SignInAsync(AdminUserName, AdminPassword, id: null);
        using var client = admin.CreateClient();
        var me = await Wait.UntilReadAsync<UserJson>(client, "/api/users/me");
        return admin with { Id = me.Id };
    }

    /// <summary>
    /// Signs in, for a test's arrangement. A sign-in the gateway gave up waiting for (504: the user
    /// service, just started or hashing for the whole suite, did not answer within the request
    /// timeout) is tried again for up to a minute; any other answer than 200 fails the test at once.
    /// Tests of the 504 itself send their own requests.
    /// </summary>
    public async Task<SignedInUser> SignInAsync(string userName, string password, string? id)
    {
        using var client = CreateClient();
        using var login = await Wait.UntilAnsweredAsync(ct => client.PostAsJsonAsync("/api/auth/login", new { userName, password }, ct), $"{userName} is signed in", HttpStatusCode.GatewayTimeout);
        Assert.True(login.StatusCode == HttpStatusCode.OK, $"login: {(int)login.StatusCode} {await login.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        var tokens = await login.Content.ReadFromJsonAsync<TokenPairJson>(TestContext.Current.CancellationToken);
        return new SignedInUser(this, id ?? string.Empty, userName, password, tokens!);
    }
}

public sealed record SignedInUser(MovieDbSystem System, string Id, string UserName, string Password, TokenPairJson Tokens)
{
    /// <summary>A gateway client that sends this user's access token.</summary>
    public HttpClient CreateClient()
    {
        var client = System.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens.AccessToken);
        return client;
    }
}

public sealed record TokenPairJson(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken);

public sealed record UserJson(string Id, string UserName, string Email, string[] Roles, DateTimeOffset CreatedAt);

public sealed record UserPageJson(UserJson[] Items, int Page, int PageSize, long TotalCount);

public static class ProblemAssert
{
    /// <summary>Asserts the status and that the body is problem details with that status and a traceId.</summary>
    public static async Task<JsonElement> IsProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("traceId").GetString()));
        return problem;
    }
}
