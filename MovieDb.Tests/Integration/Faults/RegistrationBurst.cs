using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Faults;

/// <summary>
/// A burst of registrations from concurrent clients, each with its own Idempotency-Key, and the
/// checks that every one of them came out exactly once.
/// </summary>
internal sealed class RegistrationBurst(MovieDbSystem system, int registrations, int clients)
{
    private static readonly TimeSpan AcceptedDeadline = TimeSpan.FromMinutes(3);

    private readonly string _run = Guid.NewGuid().ToString("N")[..6];
    private int _next;

    public ConcurrentQueue<(string Name, string Key, HttpStatusCode Status)> Outcomes { get; } = new();

    public int Answered => Outcomes.Count;

    public int Count(HttpStatusCode status) => Outcomes.Count(o => o.Status == status);

    public Task RunAsync() => Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(ClientAsync)));

    private async Task ClientAsync()
    {
        using var client = system.CreateClient();
        int n;
        while ((n = Interlocked.Increment(ref _next)) <= registrations)
        {
            var name = $"b{_run}{n:D4}";
            var key = $"burst-{_run}-{n:D6}";
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/register")
            {
                Content = JsonContent.Create(new { userName = name, email = $"{name}@example.test", password = "s3cret-passw0rd" }),
            };
            request.Headers.Add("Idempotency-Key", key);
            using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
            Outcomes.Enqueue((name, key, response.StatusCode));
        }
    }

    /// <summary>
    /// Every registration answered 201 or 202; every 202 resolves to succeeded; every name exists
    /// exactly once; nothing was dead-lettered.
    /// </summary>
    public async Task AssertEveryRegistrationExistsExactlyOnceAsync(TestVirtualHost virtualHost)
    {
        Assert.Equal(registrations, Outcomes.Count);
        var unexpected = Outcomes.Where(o => o.Status is not (HttpStatusCode.Created or HttpStatusCode.Accepted)).ToList();
        Assert.True(unexpected.Count == 0, $"unexpected answers: {string.Join(", ", unexpected.Select(o => $"{o.Name}={(int)o.Status}"))}");

        // After a crash the service works through the whole backlog (each registration hashes a
        // password) while status reads may time out (504) and are asked again: one deadline for all.
        using var client = system.CreateClient();
        var waiting = Stopwatch.StartNew();
        foreach (var accepted in Outcomes.Where(o => o.Status == HttpStatusCode.Accepted))
        {
            var last = "no answer yet";
            await Wait.UntilAsync(
                async () =>
                {
                    using var response = await client.GetAsync($"/api/auth/registrations/{accepted.Key}", TestContext.Current.CancellationToken);
                    if (!response.IsSuccessStatusCode)
                    {
                        last = $"HTTP {(int)response.StatusCode}";
                        return false;
                    }

                    var status = (await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken)).GetProperty("status").GetString();
                    last = $"status {status}";
                    Assert.NotEqual("failed", status);
                    return status == "succeeded";
                },
                $"the accepted registration {accepted.Key} succeeds within {AcceptedDeadline} of the burst's end",
                TimeSpan.FromSeconds(Math.Max(1, (AcceptedDeadline - waiting.Elapsed).TotalSeconds)),
                lastSeen: () => last);
        }

        var admin = await system.SignInAsAdminAsync();
        using var adminClient = admin.CreateClient();
        var names = new List<string>();
        for (var page = 1; ; page++)
        {
            var users = await ReadUsersPageAsync(adminClient, page);
            names.AddRange(users!.Items.Select(u => u.UserName).Where(n => n.StartsWith("b" + _run, StringComparison.Ordinal)));
            if (page * 100 >= users.TotalCount)
            {
                break;
            }
        }

        var duplicates = names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"registered twice: {string.Join(", ", duplicates)}");
        Assert.Equal(Outcomes.Select(o => o.Name).Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Equal(0u, await virtualHost.MessageCountAsync(UserServiceQueues.Requests.DeadLetters));
    }

    /// <summary>
    /// A page of users. A list is a query: under the burst's load (and with one instance just
    /// killed) its request/reply may run out of time and the gateway answers 504, which says
    /// nothing about the registrations, so the read is asked again until it answers.
    /// </summary>
    private static async Task<UserPageJson> ReadUsersPageAsync(HttpClient client, int page)
    {
        using var response = await Wait.UntilAnsweredAsync(
            ct => client.GetAsync($"/api/users?page={page}&pageSize=100", ct), $"page {page} of the users is read", HttpStatusCode.GatewayTimeout, HttpStatusCode.ServiceUnavailable);
        response.EnsureSuccessStatusCode();
        var users = await response.Content.ReadFromJsonAsync<UserPageJson>(TestContext.Current.CancellationToken);
        return users!;
    }
}
