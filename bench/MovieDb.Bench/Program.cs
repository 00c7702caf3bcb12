using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MovieDb.Messaging.Client;
using UserService.Contracts;

// bench/run.sh drives this tool; every command prints Markdown (or plain values) on stdout.
//   seed      --movies URL --user ID --count N --ids FILE        movies straight into the movie service
//   pages     --movies URL --user ID --numbers FILE --cursors FILE  every page of the list, two ways
//   user      --gateway URL --user NAME --password PW             registers (if new), prints "id token"
//   latency   --gateway URL --user NAME --password PW --seconds S --concurrency 1,8,32 [--only-me true]
//   amqp      --messaging URI --key SIGNING-KEY --name NAME --password PW --seconds S --concurrency 1,8,32
//   broker    --messaging URI [--clients 32] [--seconds 10] [--rounds 3]  bare RabbitMQ round trips in five shapes (BrokerFloor.cs)
//   flood     --gateway URL --user NAME --password PW --attacker NAME --seconds S --concurrency 50
//   register  --gateway URL --count N --concurrency C
//   hash      [--iterations N]
var options = Options.Parse(args);
return options.Command switch
{
    "seed" => await Seed(options),
    "pages" => await Pages(options),
    "identity" => await Identity(options),
    "user" => await BenchUser(options),
    "latency" => await Latency(options),
    "amqp" => await Amqp(options),
    "broker" => await BrokerFloor.RunAsync(options),
    "flood" => await Flood(options),
    "register" => await Register(options),
    "hash" => Hash(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MovieDb.Bench seed|token|identity|latency|amqp|broker|flood|register|hash [--option value]...");
    return 2;
}

// What the gateway signs for the movie service on every proxied request (GatewayIdentity:SigningKey):
// the bench holds the key, so it can call the movie service directly, as the gateway does.
static string IdentityToken(string key, string userId)
{
    var now = DateTime.UtcNow;
    return new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
    {
        Issuer = "moviedb-gateway",
        Audience = "movieservice",
        IssuedAt = now,
        NotBefore = now,
        Expires = now.AddHours(2),
        SigningCredentials = new(new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(key)), "HS256"),
        Claims = new Dictionary<string, object> { ["sub"] = userId, ["unique_name"] = "bench", ["role"] = "user" },
    });
}

static Task<int> Identity(Options options)
{
    Console.WriteLine(IdentityToken(options["key"], options["user"]));
    return Task.FromResult(0);
}

static async Task<int> Seed(Options options)
{
    using var http = new HttpClient { BaseAddress = new Uri(options["movies"]) };
    http.DefaultRequestHeaders.Authorization = new("Bearer", IdentityToken(options["key"], options["user"]));
    var count = options.Int("count", 10_000);
    var ids = new string[count];
    var genres = new[] { "Drama", "Comedy", "Science Fiction", "Crime", "Romance", "War", "Horror", "Documentary" };
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            using var response = await http.PostAsJsonAsync("/movies", new
            {
                title = $"Bench movie {i:D5}",
                releaseYear = 1900 + (i % 125),
                genres = new[] { genres[i % genres.Length], genres[(i / 8) % genres.Length] },
                runtimeMinutes = 80 + (i % 100),
                synopsis = "A film made of numbers.",
            });
            response.EnsureSuccessStatusCode();
            ids[i] = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }
    }));
    await File.WriteAllLinesAsync(options["ids"], ids);
    Console.WriteLine($"seeded {count} movies");
    return 0;
}

// Walks the whole list (sort=title, 20 per page) by cursor and writes, for every page, the query that
// finds it by number and the one that finds it by the previous page's cursor: the deep-page load.
static async Task<int> Pages(Options options)
{
    using var http = new HttpClient { BaseAddress = new Uri(options["movies"]) };
    http.DefaultRequestHeaders.Authorization = new("Bearer", IdentityToken(options["key"], options["user"]));
    const string List = "?sort=title&pageSize=20";
    List<string> numbers = [List + "&page=1"], cursors = [List];
    for (var page = 1; ; page++)
    {
        var body = await http.GetFromJsonAsync<JsonElement>("/movies" + cursors[^1]);
        if (body.GetProperty("next").GetString() is not { } next)
        {
            break;
        }

        if (page >= 100_000)
        {
            throw new InvalidOperationException("100,000 pages and still a next one: the cursor does not advance");
        }

        numbers.Add($"{List}&page={page + 1}");
        cursors.Add($"{List}&after={Uri.EscapeDataString(next)}");
    }

    await File.WriteAllLinesAsync(options["numbers"], numbers);
    await File.WriteAllLinesAsync(options["cursors"], cursors);
    Console.WriteLine($"{numbers.Count} pages");
    return 0;
}

static async Task<string> SignInAsync(HttpClient http, string user, string password)
{
    using var response = await http.PostAsJsonAsync("/api/auth/login", new { userName = user, password });
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
}

static async Task<int> BenchUser(Options options)
{
    using var http = new HttpClient { BaseAddress = new Uri(options["gateway"]) };
    using var register = await http.PostAsJsonAsync("/api/auth/register", new { userName = options["user"], email = options["user"] + "@example.test", password = options["password"] });
    if (!register.IsSuccessStatusCode && register.StatusCode != System.Net.HttpStatusCode.Conflict)
    {
        Console.Error.WriteLine($"register: {(int)register.StatusCode} {await register.Content.ReadAsStringAsync()}");
        return 1;
    }

    var token = await SignInAsync(http, options["user"], options["password"]);
    using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users/me");
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    using var me = await http.SendAsync(request);
    var id = (await me.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
    Console.WriteLine($"{id} {token}");
    return 0;
}

// p50/p90/p99/max of one operation at several concurrencies, each for a fixed time after a warm-up.
static async Task<int> Latency(Options options)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(options["gateway"]) };
    var token = await SignInAsync(http, options["user"], options["password"]);
    var seconds = options.Int("seconds", 10);
    Console.WriteLine("| operation | clients | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var clients in options.Ints("concurrency", [1, 8, 32]))
    {
        var me = await Measure(clients, seconds, async () =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/users/me");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(request);
            return response.IsSuccessStatusCode;
        });
        Console.WriteLine(me.Row("GET /api/users/me", clients));
    }

    if (options.Has("only-me"))
    {
        return 0;
    }

    foreach (var clients in options.Ints("concurrency", [1, 8, 32]))
    {
        var login = await Measure(clients, seconds, async () =>
        {
            using var response = await http.PostAsJsonAsync("/api/auth/login", new { userName = options["user"], password = options["password"] });
            return response.IsSuccessStatusCode;
        });
        Console.WriteLine(login.Row("POST /api/auth/login", clients));
    }

    return 0;
}

// The same round trip without HTTP: MovieDb.Messaging's request client straight to the user service.
static async Task<int> Amqp(Options options)
{
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "bench", DisableDefaults = true });
    // Requests to the user service are signed with the key it holds (Messaging:SigningKey).
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:messaging"] = options["messaging"], ["Messaging:SigningKey"] = options["key"] });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.AddRabbitMQClient("messaging");
    builder.AddRequestClient(UserServiceQueues.Requests);
    using var host = builder.Build();
    await host.StartAsync();
    var client = host.Services.GetRequiredService<IRequestClient>();

    // The user service authorises on the caller's account: sign in over AMQP for its id and stamp.
    var ready = Stopwatch.StartNew();
    RequestResult<UserSession> signIn;
    while ((signIn = await client.SendAsync(new AuthenticateUser(options["name"], options["password"]))).Outcome != RequestOutcome.Replied && ready.Elapsed < TimeSpan.FromSeconds(30))
    {
        await Task.Delay(100);
    }

    var session = signIn.Reply?.Value ?? throw new InvalidOperationException($"{options["name"]} could not sign in over AMQP.");
    var caller = new Actor(session.User.Id, session.Security.StampHash);

    var seconds = options.Int("seconds", 10);
    Console.WriteLine("| operation | clients | requests/s | p50 ms | p90 ms | p99 ms | max ms | errors |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var clients in options.Ints("concurrency", [1, 8, 32]))
    {
        var result = await Measure(clients, seconds, async () =>
            (await client.SendAsync(new GetUser(caller, caller.UserId))).Outcome == RequestOutcome.Replied);
        Console.WriteLine(result.Row("users.get over AMQP", clients));
    }

    await host.StopAsync();
    return 0;
}

static async Task<int> Register(Options options)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(options["gateway"]), Timeout = TimeSpan.FromMinutes(2) };
    var count = options.Int("count", 200);
    var clients = options.Int("concurrency", 16);
    var run = Guid.NewGuid().ToString("N")[..6];
    var next = -1;
    var failed = 0;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            using var response = await http.PostAsJsonAsync("/api/auth/register", new { userName = $"r{run}{i:D5}", email = $"r{run}{i:D5}@example.test", password = "s3cret-passw0rd" });
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref failed);
            }
        }
    }));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{count / watch.Elapsed.TotalSeconds:F1} {failed}"));
    return 0;
}

// What one PBKDF2 hash costs with ASP.NET Core's defaults (or a given iteration count).
static int Hash(Options options)
{
    var hasher = new PasswordHasher<object>(Microsoft.Extensions.Options.Options.Create(new PasswordHasherOptions
    {
        IterationCount = options.Int("iterations", new PasswordHasherOptions().IterationCount),
    }));
    hasher.HashPassword(new object(), "warm-up");
    var watch = Stopwatch.StartNew();
    const int Rounds = 20;
    for (var i = 0; i < Rounds; i++)
    {
        hasher.HashPassword(new object(), "s3cret-passw0rd");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{watch.Elapsed.TotalMilliseconds / Rounds:F1} {new PasswordHasherOptions().IterationCount}"));
    return 0;
}

static async Task<Measurement> Measure(int clients, int seconds, Func<Task<bool>> operation)
{
    // Warm-up: connections, JIT, pools.
    var warmUp = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        while (warmUp.Elapsed < TimeSpan.FromSeconds(2))
        {
            await operation();
        }
    }));

    var latencies = new List<double>[clients];
    var errors = 0;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
    {
        var own = latencies[c] = [];
        while (watch.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var started = Stopwatch.GetTimestamp();
            var ok = await operation();
            own.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (!ok)
            {
                Interlocked.Increment(ref errors);
            }
        }
    }));
    var all = latencies.SelectMany(l => l).Order().ToArray();
    return new Measurement(all, watch.Elapsed, errors);
}

// Another user's sign-in latency (one client, one sign-in after another) while one account floods the
// gateway with account changes from many clients at once: quiet, then wrong current passwords (the
// sign-in throttle's case), then right ones (the per-user password-change limit's case), and the same
// three again in reverse order.
static async Task<int> Flood(Options options)
{
    using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = new Uri(options["gateway"]) };
    // One account floods with wrong passwords, another with the right one: each meets its own limit.
    var wrong = await FloodAccountAsync(http, options["attacker"] + "w", options["password"]);
    var right = await FloodAccountAsync(http, options["attacker"] + "r", options["password"]);

    var seconds = options.Int("seconds", 30);
    var clients = options.Int("concurrency", 50);
    Console.WriteLine($"| while one account sends {clients} concurrent account changes | other user's sign-ins | p50 ms | p95 ms | p99 ms | max ms | the flood's answers |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---|");
    foreach (var phase in new[] { "nothing", "wrong", "right", "right", "wrong", "nothing" })
    {
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        using var stop = new CancellationTokenSource();
        var flood = phase == "nothing" ? Task.CompletedTask : Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var (name, id, token) = phase == "right" ? right : wrong;
                using var change = new HttpRequestMessage(HttpMethod.Put, $"/api/users/{id}")
                {
                    Content = JsonContent.Create(new { email = $"{name}+{c}-{n++}@example.test", currentPassword = phase == "right" ? options["password"] : $"wrong-{c}-{n}" }),
                };
                change.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                try
                {
                    using var response = await http.SendAsync(change, stop.Token);
                    statuses.AddOrUpdate((int)response.StatusCode, 1, (_, count) => count + 1);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
            }
        }));

        var signIns = await Measure(1, seconds, async () =>
        {
            using var response = await http.PostAsJsonAsync("/api/auth/login", new { userName = options["user"], password = options["password"] });
            return response.IsSuccessStatusCode;
        });
        await stop.CancelAsync();
        await flood;
        var answers = statuses.IsEmpty ? "—" : string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value} × {s.Key}"));
        var what = phase switch { "nothing" => "nothing (baseline)", "wrong" => "wrong current passwords", _ => "the right current password" };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {what} | {signIns.SortedMilliseconds.Length} ({signIns.Errors} failed) | {signIns.Percentile(0.50):F1} | {signIns.Percentile(0.95):F1} | {signIns.Percentile(0.99):F1} | {signIns.SortedMilliseconds.LastOrDefault():F1} | {answers} |"));
    }

    return 0;
}

static async Task<(string Name, string Id, string Token)> FloodAccountAsync(HttpClient http, string name, string password)
{
    using (var register = await http.PostAsJsonAsync("/api/auth/register", new { userName = name, email = name + "@example.test", password }))
    {
        if (!register.IsSuccessStatusCode && register.StatusCode != System.Net.HttpStatusCode.Conflict)
        {
            throw new InvalidOperationException($"register {name}: {(int)register.StatusCode} {await register.Content.ReadAsStringAsync()}");
        }
    }

    var token = await SignInAsync(http, name, password);
    using var me = new HttpRequestMessage(HttpMethod.Get, "/api/users/me");
    me.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    using var response = await http.SendAsync(me);
    return (name, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!, token);
}

internal sealed record Measurement(double[] SortedMilliseconds, TimeSpan Elapsed, int Errors)
{
    public double Percentile(double p) => SortedMilliseconds.Length == 0 ? double.NaN : SortedMilliseconds[Math.Min(SortedMilliseconds.Length - 1, (int)Math.Ceiling(p * SortedMilliseconds.Length) - 1)];

    public string Row(string operation, int clients) => string.Create(CultureInfo.InvariantCulture,
        $"| {operation} | {clients} | {SortedMilliseconds.Length / Elapsed.TotalSeconds:F0} | {Percentile(0.50):F2} | {Percentile(0.90):F2} | {Percentile(0.99):F2} | {SortedMilliseconds.LastOrDefault():F2} | {Errors} |");
}

internal sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public string Command { get; private init; } = string.Empty;

    public string this[string name] => _values.TryGetValue(name, out var value) ? value : throw new ArgumentException($"--{name} is required");

    public bool Has(string name) => _values.ContainsKey(name);

    public int Int(string name, int fallback) => _values.TryGetValue(name, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;

    public int[] Ints(string name, int[] fallback) =>
        _values.TryGetValue(name, out var value) ? [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] : fallback;

    public static Options Parse(string[] args)
    {
        var options = new Options { Command = args.FirstOrDefault() ?? string.Empty };
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            options._values[args[i].TrimStart('-')] = args[i + 1];
        }

        return options;
    }
}
