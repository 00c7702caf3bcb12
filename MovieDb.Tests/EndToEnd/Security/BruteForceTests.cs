using System.Net;
using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>Password guessing meets the per-address limit on sign-in — even a correct guess, once it is exhausted.</summary>
public sealed class BruteForceTests(TestServers servers)
{
    private sealed class System(TestServers servers) : ProcessSystem(servers)
    {
        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["RateLimiting__Auth__PermitLimit"] = "5",
            ["RateLimiting__Auth__Window"] = "00:01:00",
        };
    }

    [Fact]
    public async Task Guessing_passwords_from_one_address_is_stopped_after_the_limit_whatever_the_account()
    {
        await using var system = new System(servers);
        await system.InitializeAsync();
        using var client = system.CreateClient();
        var ct = TestContext.Current.CancellationToken;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var guess = await client.PostAsJsonAsync("/api/auth/login", new { userName = MovieDbSystem.AdminUserName, password = $"guess-{i:D4}" }, ct);
            statuses.Add(guess.StatusCode);
        }

        using var correct = await client.PostAsJsonAsync("/api/auth/login", new { userName = MovieDbSystem.AdminUserName, password = MovieDbSystem.AdminPassword }, ct);
        using var otherAccount = await client.PostAsJsonAsync("/api/auth/login", new { userName = "someone-else", password = "whatever-pass" }, ct);
        using var register = await client.PostAsJsonAsync("/api/auth/register", new { userName = "newcomer", email = "newcomer@example.test", password = "s3cret-passw0rd" }, ct);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        foreach (var refused in new[] { correct, otherAccount, register })
        {
            await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.TooManyRequests);
            Assert.InRange(refused.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));
        }

        // The refused registration was never sent: the account does not exist.
        using var lookup = await system.CreateClient().PostAsJsonAsync("/api/auth/login", new { userName = "newcomer", password = "s3cret-passw0rd" }, ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, lookup.StatusCode);
        using var store = new LiteDB.LiteDatabase($"Filename={system.UsersFile};Connection=shared");
        Assert.Equal(0, store.GetCollection("users").Count(LiteDB.Query.EQ("UserName", "newcomer")));
    }
}
