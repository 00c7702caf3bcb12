using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;

namespace MovieDb.Tests.Infrastructure;

/// <summary>Waits on conditions with a bound, never on bare sleeps.</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds; fails the test with <paramref name="what"/>
    /// after <paramref name="timeout"/>, and with what <paramref name="lastSeen"/> says the condition
    /// last saw, when given.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null, Func<string>? lastSeen = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (watch.Elapsed > limit)
            {
                Assert.Fail($"Timed out after {limit} waiting for: {what}" + (lastSeen is null ? string.Empty : $"; last seen: {lastSeen()}"));
            }

            await Task.Delay(interval ?? TimeSpan.FromMilliseconds(50), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Waits until <c>/health</c> answers exactly <paramref name="expected"/> ("Healthy", or "Degraded").</summary>
    public static Task UntilHealthAsync(HttpClient client, string what, string expected = "Healthy", TimeSpan? timeout = null) =>
        UntilAsync(async () =>
        {
            using var response = await client.GetAsync("/health", TestContext.Current.CancellationToken);
            return await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken) == expected;
        }, what, timeout);

    /// <summary>
    /// Sends a request of a test's arrangement or check again while the gateway answers one of
    /// <paramref name="giveUps"/> — it gave up waiting on a service that the whole suite's load made
    /// slow (504), or found it away for a moment (503), which says nothing about what the test checks —
    /// every 500 ms for up to a minute. Returns the first other answer, for the caller to check. Tests
    /// of the 504 or 503 itself send their own requests.
    /// </summary>
    public static async Task<HttpResponseMessage> UntilAnsweredAsync(Func<CancellationToken, Task<HttpResponseMessage>> send, string what, params HttpStatusCode[] giveUps)
    {
        HttpResponseMessage? answer = null;
        await UntilAsync(async () =>
        {
            var response = await send(TestContext.Current.CancellationToken);
            if (giveUps.Contains(response.StatusCode))
            {
                response.Dispose();
                return false;
            }

            answer = response;
            return true;
        }, $"{what} (the gateway kept answering {string.Join(" or ", giveUps.Select(s => (int)s))})", TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(500));
        return answer!;
    }

    /// <summary>A GET of a test's arrangement or check, asked again while the gateway answers 504 (<see cref="UntilAnsweredAsync"/>); any other failure fails the test.</summary>
    public static async Task<T> UntilReadAsync<T>(HttpClient client, string path)
    {
        using var response = await UntilAnsweredAsync(ct => client.GetAsync(path, ct), $"GET {path} is answered", HttpStatusCode.GatewayTimeout);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}");
        return (await response.Content.ReadFromJsonAsync<T>(TestContext.Current.CancellationToken))!;
    }

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout, interval);
}
