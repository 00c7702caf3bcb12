using System.Diagnostics;

namespace MovieDb.Tests.Infrastructure;

/// <summary>Waits on conditions with a bound, never on bare sleeps.</summary>
public static class Wait
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null)
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
                Assert.Fail($"Timed out after {limit} waiting for: {what}");
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

    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout, interval);
}
