using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using RabbitMQ.Client;
using Testcontainers.RabbitMq;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// A RabbitMQ broker; every test gets its own virtual host (<see cref="CreateVirtualHostAsync"/>),
/// so the fixed queue names of MovieDb never collide between tests running in parallel. Virtual
/// hosts are created through the management HTTP API.
/// </summary>
public sealed class RabbitMqServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "MOVIEDB_TEST_RABBITMQ";
    public const string ManagementEnvironmentVariable = "MOVIEDB_TEST_RABBITMQ_MANAGEMENT";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private RabbitMqContainer? _container;
    private Uri? _amqp;
    private Uri? _management;
    private string? _unavailableReason;
    private HttpClient? _http;

    private async Task ResolveAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            _amqp = new Uri(fromEnvironment);
            var management = Environment.GetEnvironmentVariable(ManagementEnvironmentVariable);
            _management = string.IsNullOrWhiteSpace(management) ? new Uri($"http://{_amqp.Host}:15672/") : new Uri(management);
            return;
        }

        if (!TestServers.DockerLooksReachable())
        {
            _unavailableReason = $"{EnvironmentVariable} is not set and no Docker engine is reachable for Testcontainers. Run scripts/test.sh, which installs and starts RabbitMQ.";
            return;
        }

        try
        {
            _container = new RabbitMqBuilder("rabbitmq:3.13-management").WithPortBinding(15672, true).Build();
            await _container.StartAsync();
            _amqp = new Uri(_container.GetConnectionString());
            _management = new Uri($"http://{_container.Hostname}:{_container.GetMappedPublicPort(15672)}/");
        }
        catch (Exception ex)
        {
            _unavailableReason = $"{EnvironmentVariable} is not set and starting a RabbitMQ container failed: {ex.Message}";
        }
    }

    /// <summary>The broker's amqp:// URI (default virtual host); fails or skips the test when there is none.</summary>
    public async Task<Uri> GetUriAsync()
    {
        await _gate.WaitAsync(TestContext.Current.CancellationToken);
        try
        {
            if (_amqp is null && _unavailableReason is null)
            {
                await ResolveAsync();
            }
        }
        finally
        {
            _gate.Release();
        }

        if (_amqp is null)
        {
            throw TestServers.Unavailable("RabbitMQ", _unavailableReason!, requiredInCi: true);
        }

        return _amqp;
    }

    /// <summary>Creates a virtual host for one test, with full rights for the test account.</summary>
    public async Task<TestVirtualHost> CreateVirtualHostAsync()
    {
        var amqp = await GetUriAsync();
        var http = GetHttpClient(amqp);
        var name = $"moviedb-test-{Guid.NewGuid():N}"[..21];
        var user = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]);
        // Both requests are PUTs (asking twice does no harm): one that could not be sent is sent again
        // after a second, twice at most, before the broker is called unavailable.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var ct = TestContext.Current.CancellationToken;
                (await http.PutAsync($"api/vhosts/{Uri.EscapeDataString(name)}", JsonContent.Create(new { }), ct)).EnsureSuccessStatusCode();
                (await http.PutAsync(
                    $"api/permissions/{Uri.EscapeDataString(name)}/{Uri.EscapeDataString(user)}",
                    JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" }),
                    ct)).EnsureSuccessStatusCode();
                break;
            }
            catch (HttpRequestException) when (attempt < 3)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);
            }
            catch (HttpRequestException ex)
            {
                throw TestServers.Unavailable("RabbitMQ", $"cannot create a virtual host through the management API at {_management} ({ManagementEnvironmentVariable}): {ex.Message} {ex.InnerException?.Message}", requiredInCi: true);
            }
        }

        var builder = new UriBuilder(amqp) { Path = "/" + Uri.EscapeDataString(name) };
        return new TestVirtualHost(name, builder.Uri, http);
    }

    /// <summary>Whether a virtual host exists, according to the management API.</summary>
    public async Task<bool> VirtualHostExistsAsync(string name)
    {
        var http = GetHttpClient(await GetUriAsync());
        using var response = await http.GetAsync($"api/vhosts/{Uri.EscapeDataString(name)}", TestContext.Current.CancellationToken);
        return response.IsSuccessStatusCode;
    }

    private HttpClient GetHttpClient(Uri amqp)
    {
        if (_http is null)
        {
            var credentials = Uri.UnescapeDataString(amqp.UserInfo);
            // Idle connections are dropped long before the management API's own idle time-out, so that
            // a request never goes out on a connection the server is closing at that moment.
            _http = new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) })
            {
                BaseAddress = _management,
                Timeout = TimeSpan.FromSeconds(30),
            };
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }

        return _http;
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }

        _gate.Dispose();
    }
}

/// <summary>One test's virtual host; deleted (with everything in it) on dispose.</summary>
public sealed class TestVirtualHost(string name, Uri uri, HttpClient management) : IAsyncDisposable
{
    public string Name { get; } = name;

    /// <summary>amqp:// URI of this virtual host: what <c>ConnectionStrings:messaging</c> is set to.</summary>
    public Uri Uri { get; } = uri;

    public string ConnectionString => Uri.ToString();

    /// <summary>Opens a plain connection for the test's own inspection or publishing.</summary>
    public Task<IConnection> ConnectAsync() =>
        new ConnectionFactory { Uri = Uri, ClientProvidedName = "moviedb-tests" }.CreateConnectionAsync(TestContext.Current.CancellationToken);

    /// <summary>Messages ready in a queue (0 when the queue does not exist).</summary>
    public async Task<uint> MessageCountAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(cancellationToken: TestContext.Current.CancellationToken);
        try
        {
            var ok = await channel.QueueDeclarePassiveAsync(queue, TestContext.Current.CancellationToken);
            return ok.MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>Creates or replaces a policy in this virtual host through the management API.</summary>
    public async Task SetPolicyAsync(string policy, string pattern, object definition, string applyTo = "queues", int priority = 0)
    {
        using var response = await management.PutAsync(
            $"api/policies/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(policy)}",
            JsonContent.Create(new Dictionary<string, object> { ["pattern"] = pattern, ["definition"] = definition, ["apply-to"] = applyTo, ["priority"] = priority }),
            TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Removes a policy from this virtual host through the management API.</summary>
    public async Task DeletePolicyAsync(string policy)
    {
        using var response = await management.DeleteAsync($"api/policies/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(policy)}", TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// A queue as the management API reports it (<c>messages_unacknowledged</c>,
    /// <c>message_stats.redeliver</c>, …), or null when it does not exist. The statistics are
    /// sampled by the broker (every 5 s by default): poll them with a bound.
    /// </summary>
    public async Task<JsonElement?> QueueInfoAsync(string queue)
    {
        using var response = await management.GetAsync($"api/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}", TestContext.Current.CancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>(TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// The channels of the connection a client named <paramref name="connectionName"/> (its
    /// <c>ClientProvidedName</c>) in this virtual host, as the management API reports them
    /// (<c>confirm</c>, …). Sampled like the queues' statistics: a new channel is listed before its
    /// settings are (its <c>confirm</c> reads false until the next sample) — poll with a bound.
    /// </summary>
    public async Task<JsonElement[]> ChannelsOfAsync(string connectionName)
    {
        var ct = TestContext.Current.CancellationToken;
        using var connections = await management.GetAsync($"api/vhosts/{Uri.EscapeDataString(Name)}/connections", ct);
        connections.EnsureSuccessStatusCode();
        var names = (await connections.Content.ReadFromJsonAsync<JsonElement>(ct)).EnumerateArray()
            .Where(c => Field(Field(c, "client_properties"), "connection_name") is { ValueKind: JsonValueKind.String } named && named.GetString() == connectionName)
            .Select(c => c.GetProperty("name").GetString())
            .ToHashSet(StringComparer.Ordinal);
        using var channels = await management.GetAsync($"api/vhosts/{Uri.EscapeDataString(Name)}/channels", ct);
        channels.EnsureSuccessStatusCode();
        return [.. (await channels.Content.ReadFromJsonAsync<JsonElement>(ct)).EnumerateArray()
            .Where(c => Field(Field(c, "connection_details"), "name") is { ValueKind: JsonValueKind.String } name && names.Contains(name.GetString()!))];

        // The management API gives an empty list, not an object, for details it has not sampled yet.
        static JsonElement? Field(JsonElement? element, string name) =>
            element is { ValueKind: JsonValueKind.Object } value && value.TryGetProperty(name, out var field) ? field : null;
    }

    /// <summary>A counter of a queue's <c>message_stats</c> (0 while the broker has not sampled it).</summary>
    public async Task<long> QueueStatAsync(string queue, string stat) =>
        await QueueInfoAsync(queue) is { } info
        && info.TryGetProperty("message_stats", out var stats)
        && stats.TryGetProperty(stat, out var value)
            ? value.GetInt64()
            : 0;

    /// <summary>A top-level number of a queue's management record, e.g. <c>messages_unacknowledged</c> (-1 when not reported yet).</summary>
    public async Task<long> QueueValueAsync(string queue, string field) =>
        await QueueInfoAsync(queue) is { } info && info.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetInt64()
            : -1;

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var response = await management.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(Name)}");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            // The broker may be down on purpose (fault tests), or slow to delete a virtual host full of
            // quorum queues; a leftover virtual host is harmless.
        }
    }
}
