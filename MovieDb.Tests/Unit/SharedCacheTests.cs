using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using MovieDb.Caching;
using StackExchange.Redis;

namespace MovieDb.Tests.Unit;

/// <summary>Which errors send a caller of Redis to its per-instance fallback, and which are ours to fix.</summary>
public sealed class SharedCacheTests
{
    public static TheoryData<Exception, bool> Errors() => new()
    {
        { new RedisConnectionException(ConnectionFailureType.SocketFailure, "down"), true },
        { new RedisTimeoutException("slow", CommandStatus.Sent), true },
        { new RedisServerException("LOADING Redis is loading the dataset in memory"), true },
        // A connection reset mid-command, as the client surfaced it in CI: the socket's error, wrapped or not.
        { new SocketException((int)SocketError.ConnectionReset), true },
        { new InvalidOperationException("Connection reset by peer", new SocketException((int)SocketError.ConnectionReset)), true },
        { new IOException("Broken pipe"), true },
        { new RedisServerException("NOPERM this user has no permissions to run the 'time' command"), false },
        { new InvalidOperationException("a bug of ours"), false },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Redis_being_down_slow_or_reset_is_unavailability_and_anything_else_is_not(Exception error, bool unavailable) =>
        Assert.Equal(unavailable, SharedCache.IsUnavailable(error));

    [Fact]
    public void A_command_written_to_a_connection_whose_pipe_is_already_closed_is_unavailability()
    {
        var pipe = new System.IO.Pipelines.Pipe();
        pipe.Writer.Complete();

        var error = Assert.Throws<InvalidOperationException>(() => pipe.Writer.GetSpan());

        Assert.True(SharedCache.IsUnavailable(error));
    }

    [Fact]
    public void The_client_fails_fast_within_the_operation_timeout_and_does_its_io_on_the_thread_pool()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:6379";
        builder.Configuration["Cache:OperationTimeout"] = "00:00:00.250";
        builder.AddSharedCache();
        using var services = builder.Services.BuildServiceProvider();

        var options = services.GetRequiredService<IOptionsMonitor<ConfigurationOptions>>().Get(Options.DefaultName);

        Assert.False(options.AbortOnConnectFail);
        Assert.Equal(BacklogPolicy.FailFast, options.BacklogPolicy);
        Assert.Equal(250, options.AsyncTimeout);
        Assert.Equal(250, options.SyncTimeout);
        // Not the client's default of dedicated I/O threads: under load they cost the gateway more CPU
        // per request than its one Redis call (bench/RESULTS.md, round three).
        Assert.Same(SocketManager.ThreadPool, options.SocketManager);
    }

    [Fact]
    public async Task The_connection_is_made_when_the_service_starts_not_by_its_first_request()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        // Nothing listens there: the connect fails at once and the client returns unconnected, as it
        // does when Redis is away at start.
        builder.Configuration["ConnectionStrings:cache"] = "127.0.0.1:1";
        builder.AddSharedCache();
        var made = 0;
        var aspire = builder.Services.Single(d => d.ServiceType == typeof(IConnectionMultiplexer));
        builder.Services.Remove(aspire);
        builder.Services.AddSingleton(services =>
        {
            Interlocked.Increment(ref made);
            return (IConnectionMultiplexer)aspire.ImplementationFactory!(services);
        });
        using var host = builder.Build();
        Assert.Equal(0, made);

        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            Assert.Equal(1, made);
            Assert.False(host.Services.GetRequiredService<IConnectionMultiplexer>().IsConnected);
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
    }
}
