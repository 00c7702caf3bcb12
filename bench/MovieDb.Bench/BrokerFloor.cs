using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

/// <summary>
/// The broker's floor for one request/reply round trip (issue 29): bare RabbitMQ.Client round trips
/// between a requester and an echoing responder in this process, no service code, in the shapes
/// MovieDb could use — today's (a publisher confirm on the request and on the reply, a reply queue
/// per requester), without the reply's confirm, without any confirm, and with direct reply-to
/// (<c>amq.rabbitmq.reply-to</c>). Interleaved rounds; each reports round trips/s and the CPU per
/// round trip of RabbitMQ (every <c>beam.smp</c>) and of this process.
/// </summary>
internal static class BrokerFloor
{
    private const string RequestQueue = "bench.broker-floor.requests";

    private sealed record Shape(string Name, bool ConfirmRequest, bool ConfirmReply, bool DirectReplyTo);

    private static readonly Shape[] Shapes =
    [
        new("as MovieDb: both confirmed, reply queue", true, true, false),
        new("request confirmed, reply not", true, false, false),
        new("no confirms, reply queue", false, false, false),
        new("direct reply-to, request confirmed", true, false, true),
        new("direct reply-to, no confirms", false, false, true),
    ];

    public static async Task<int> RunAsync(Options options)
    {
        var factory = new ConnectionFactory { Uri = new Uri(options["messaging"]) };
        var clients = options.Int("clients", 32);
        var seconds = options.Int("seconds", 10);
        var rounds = options.Int("rounds", 3);
        var results = Shapes.ToDictionary(s => s.Name, _ => new List<(double Rps, double BrokerUs, double SelfUs)>());

        await using var responderConnection = await factory.CreateConnectionAsync("bench broker-floor responder");
        await using var requesterConnection = await factory.CreateConnectionAsync("bench broker-floor requester");
        for (var round = 1; round <= rounds; round++)
        {
            // Each round starts with another shape, so that none is always the first after a pause.
            var start = (round - 1) % Shapes.Length;
            foreach (var shape in Shapes[start..].Concat(Shapes[..start]))
            {
                var result = await RoundAsync(shape, responderConnection, requesterConnection, clients, seconds);
                results[shape.Name].Add(result);
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: {shape.Name}: {result.Rps:F0} round trips/s, RabbitMQ {result.BrokerUs:F0} µs, bench {result.SelfUs:F0} µs per round trip"));
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| shape ({clients} clients, medians of {rounds} rounds of {seconds} s) | round trips/s | RabbitMQ µs CPU per round trip | requester + responder µs CPU per round trip |"));
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var shape in Shapes)
        {
            var r = results[shape.Name];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {shape.Name} | {Median(r.Select(x => x.Rps)):F0} | {Median(r.Select(x => x.BrokerUs)):F0} | {Median(r.Select(x => x.SelfUs)):F0} |"));
        }

        return 0;
    }

    private static async Task<(double Rps, double BrokerUs, double SelfUs)> RoundAsync(Shape shape, IConnection responderConnection, IConnection requesterConnection, int clients, int seconds)
    {
        // The responder: MovieDb's user service's settings (prefetch 64, 16 handlers at once), the
        // query acknowledged once its reply is published (and confirmed, when the shape confirms it).
        await using var responder = await responderConnection.CreateChannelAsync(new CreateChannelOptions(false, false, null, 16));
        await using var replies = await responderConnection.CreateChannelAsync(ConfirmOptions(shape.ConfirmReply));
        await responder.QueueDeclareAsync(RequestQueue, durable: false, exclusive: false, autoDelete: false);
        await responder.QueuePurgeAsync(RequestQueue);
        await responder.BasicQosAsync(0, 64, false);
        var echo = new AsyncEventingBasicConsumer(responder);
        echo.ReceivedAsync += async (_, delivery) =>
        {
            var properties = new BasicProperties
            {
                CorrelationId = delivery.BasicProperties.CorrelationId,
                MessageId = Guid.NewGuid().ToString(),
                Type = delivery.BasicProperties.Type + ".reply",
                ContentType = "application/json",
                Headers = Headers(),
            };
            await replies.BasicPublishAsync(string.Empty, delivery.BasicProperties.ReplyTo!, mandatory: false, properties, delivery.Body.ToArray());
            await responder.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        var consumerTag = await responder.BasicConsumeAsync(RequestQueue, autoAck: false, echo);

        // The requester: one channel for its requests (confirmed or not) and its replies, consumed
        // with automatic acknowledgement as MovieDb's reply consumer does.
        await using var requests = await requesterConnection.CreateChannelAsync(ConfirmOptions(shape.ConfirmRequest));
        await using var replyChannel = shape.DirectReplyTo ? null : await requesterConnection.CreateChannelAsync();
        var replyConsumerChannel = replyChannel ?? requests;
        var replyTo = shape.DirectReplyTo
            ? "amq.rabbitmq.reply-to"
            : (await replyConsumerChannel.QueueDeclareAsync(string.Empty, durable: false, exclusive: true, autoDelete: true)).QueueName;
        var waiting = new ConcurrentDictionary<string, TaskCompletionSource>(StringComparer.Ordinal);
        var replyConsumer = new AsyncEventingBasicConsumer(replyConsumerChannel);
        replyConsumer.ReceivedAsync += (_, delivery) =>
        {
            if (delivery.BasicProperties.CorrelationId is { } id && waiting.TryRemove(id, out var waiter))
            {
                waiter.TrySetResult();
            }

            return Task.CompletedTask;
        };
        await replyConsumerChannel.BasicConsumeAsync(replyTo, autoAck: true, replyConsumer);

        var body = Encoding.UTF8.GetBytes("{\"caller\":{\"userId\":\"0123456789abcdef01234567\",\"stamp\":\"" + new string('s', 44) + "\"},\"userId\":\"0123456789abcdef01234567\"}");
        async Task RoundTripAsync()
        {
            var id = Guid.NewGuid().ToString("N");
            var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiting[id] = waiter;
            var properties = new BasicProperties
            {
                MessageId = Guid.NewGuid().ToString(),
                CorrelationId = id,
                ReplyTo = replyTo,
                Type = "users.get",
                ContentType = "application/json",
                DeliveryMode = DeliveryModes.Transient,
                Expiration = "30000",
                Headers = Headers(),
            };
            await requests.BasicPublishAsync(string.Empty, RequestQueue, mandatory: true, properties, body);
            await waiter.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        // Warm-up, then the measured round.
        await RunAsync(clients, TimeSpan.FromSeconds(2), RoundTripAsync);
        var broker = BrokerCpu();
        var self = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        var count = await RunAsync(clients, TimeSpan.FromSeconds(seconds), RoundTripAsync);
        var elapsed = watch.Elapsed;
        var brokerUs = (BrokerCpu() - broker).TotalMicroseconds / count;
        var selfUs = (Process.GetCurrentProcess().TotalProcessorTime - self).TotalMicroseconds / count;

        await responder.BasicCancelAsync(consumerTag);
        await responder.QueueDeleteAsync(RequestQueue);
        return (count / elapsed.TotalSeconds, brokerUs, selfUs);
    }

    private static CreateChannelOptions ConfirmOptions(bool confirm) =>
        new(publisherConfirmationsEnabled: confirm, publisherConfirmationTrackingEnabled: confirm, outstandingPublisherConfirmationsRateLimiter: confirm ? new ThrottlingRateLimiter(1024) : null);

    /// <summary>Headers of MovieDb's size: a deadline, a traceparent and an HMAC signature with its time.</summary>
    private static Dictionary<string, object?> Headers() => new()
    {
        ["x-deadline"] = DateTimeOffset.UtcNow.AddSeconds(30).ToUnixTimeMilliseconds(),
        ["traceparent"] = $"00-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}-01",
        ["x-signature"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        ["x-signed-at"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
    };

    private static async Task<long> RunAsync(int clients, TimeSpan duration, Func<Task> roundTrip)
    {
        long count = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            while (watch.Elapsed < duration)
            {
                await roundTrip();
                Interlocked.Increment(ref count);
            }
        }));
        return count;
    }

    private static TimeSpan BrokerCpu() =>
        Process.GetProcessesByName("beam.smp").Aggregate(TimeSpan.Zero, (sum, p) => sum + p.TotalProcessorTime);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
