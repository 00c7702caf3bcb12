using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MovieDb.Messaging.Client;
using MovieDb.Messaging.Contracts;
using MovieDb.Tests.Infrastructure;
using MovieDb.Tests.Integration.Messaging;
using RabbitMQ.Client;
using UserService;
using UserService.Contracts;

namespace MovieDb.Tests.Integration.Users;

/// <summary>
/// The real user service (in process, LiteDB in a temporary file) on its own virtual host, with a
/// gateway-like request client and an event recorder next to it.
/// </summary>
internal sealed class UserServiceHost : IAsyncDisposable
{
    public const string AdminPassword = "admin-password-for-tests";

    private readonly string _directory;

    private UserServiceHost(TestVirtualHost vhost, ServiceFactory<UserServiceApp> service, MessagingTestHost gateway, MessagingTestHost recorder, HandlerScript events, string directory)
    {
        VirtualHost = vhost;
        Service = service;
        Gateway = gateway;
        Recorder = recorder;
        Events = events;
        _directory = directory;
    }

    public TestVirtualHost VirtualHost { get; }

    public ServiceFactory<UserServiceApp> Service { get; }

    public MessagingTestHost Gateway { get; }

    public MessagingTestHost Recorder { get; }

    /// <summary>The <c>user.deleted</c> events seen by a subscriber.</summary>
    public HandlerScript Events { get; }

    public IRequestClient Requests => Gateway.Services.GetRequiredService<IRequestClient>();

    public static Dictionary<string, string?> Settings(string connectionString, string directory) => new()
    {
        ["ConnectionStrings:messaging"] = connectionString,
        ["ConnectionStrings:userdb"] = $"Filename={Path.Combine(directory, "users.db")};Connection=shared",
        ["Admin:Password"] = AdminPassword,
        ["Messaging:SigningKey"] = EndToEnd.InProcessSystem.MessagingSigningKey,
        ["Messaging:EventSigningKey"] = EndToEnd.InProcessSystem.EventSigningKey,
        ["PasswordHasher:IterationCount"] = "10000",
        ["Messaging:RetryDelay"] = "00:00:00.010",
        ["Accounts:RequireActivation"] = "false",
    };

    public static async Task<UserServiceHost> StartAsync(TestServers servers)
    {
        var vhost = await servers.RabbitMq.CreateVirtualHostAsync();
        var directory = Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N"));
        var service = new ServiceFactory<UserServiceApp>(Settings(vhost.ConnectionString, directory));
        _ = service.Server;

        var events = new HandlerScript();
        var recorder = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder =>
        {
            builder.Services.AddSingleton(events);
            builder.AddEventSubscription("tests.user-events").On<UserDeleted, ScriptedUserDeletedConsumer>();
        }, applicationName: "recorder");
        var gateway = await MessagingTestHost.StartAsync(vhost.ConnectionString, builder => builder.AddRequestClient(UserServiceQueues.Requests), applicationName: "gateway");
        var host = new UserServiceHost(vhost, service, gateway, recorder, events, directory);
        await Wait.UntilAsync(async () => (await service.CreateClient().GetAsync("/health", TestContext.Current.CancellationToken)).IsSuccessStatusCode, "the user service is ready");
        return host;
    }

    /// <summary>Signs in and returns the account as a caller (its id and current security stamp).</summary>
    public async Task<Actor> SignInAsync(string userName, string password)
    {
        var session = (await SendAsync(new AuthenticateUser(userName, password))).Value ?? throw new InvalidOperationException($"{userName} could not sign in.");
        return new Actor(session.User.Id, session.Security.StampHash);
    }

    /// <summary>The bootstrap admin as a caller.</summary>
    public Task<Actor> AdminAsync() => SignInAsync("admin", AdminPassword);

    /// <summary>Registers an account and signs it in.</summary>
    public async Task<(UserDto User, Actor Actor)> NewUserAsync(string name, string password = "s3cret-passw0rd")
    {
        var user = (await SendAsync(new RegisterUser(name, $"{name}@example.test", password))).Value ?? throw new InvalidOperationException($"{name} could not register.");
        return (user, await SignInAsync(name, password));
    }

    /// <summary>Runs <paramref name="action"/> on one of the service's feature classes, as its handler would (no broker, no inbox).</summary>
    public async Task<T> WithFeatureAsync<TFeature, T>(Func<TFeature, Task<T>> action)
        where TFeature : notnull
    {
        await using var scope = Service.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<TFeature>());
    }

    public UserService.Infrastructure.IUserStore Store => Service.Services.GetRequiredService<UserService.Infrastructure.IUserStore>();

    public async Task<Reply<T>> SendAsync<T>(IRequest<T> request, string? requestId = null)
    {
        var result = await Requests.SendAsync(request, new RequestOptions { RequestId = requestId, Timeout = TimeSpan.FromSeconds(20) }, TestContext.Current.CancellationToken);
        Assert.Equal(RequestOutcome.Replied, result.Outcome);
        return result.Reply!;
    }

    /// <summary>Sends a request with a raw reply queue and returns the reply body exactly as it travelled.</summary>
    public async Task<string> SendRawAsync<T>(IRequest<T> request)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var connection = await VirtualHost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), ct);
        var replyQueue = (await channel.QueueDeclareAsync(cancellationToken: ct)).QueueName;
        var metadata = MessageMetadata.Of(request.GetType());
        var properties = new BasicProperties { MessageId = Guid.NewGuid().ToString(), CorrelationId = "raw", ReplyTo = replyQueue, Type = metadata.Type, ContentType = "application/json", Persistent = true };
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), MessageSerializer.Options);
        MovieDb.Messaging.MessageSignatures.Sign(MovieDb.Messaging.SignedMessage.Request, properties, body, RawMessages.SigningKey, DateTimeOffset.UtcNow);
        await channel.BasicPublishAsync(string.Empty, metadata.Kind == MessageKind.Query ? UserServiceQueues.Requests.Queries : UserServiceQueues.Requests.Commands, mandatory: true, properties, body, ct);

        BasicGetResult? reply = null;
        await Wait.UntilAsync(async () => (reply = await channel.BasicGetAsync(replyQueue, autoAck: true, ct)) is not null, $"the raw reply to {metadata.Type}");
        return Encoding.UTF8.GetString(reply!.Body.Span);
    }

    public async ValueTask DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Recorder.DisposeAsync();
        await Service.DisposeAsync();
        await VirtualHost.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
