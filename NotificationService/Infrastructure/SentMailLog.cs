using LiteDB;

namespace NotificationService.Infrastructure;

/// <summary>
/// The mails the SMTP server has accepted, by event id: an event that comes again (redelivered
/// after a crash, or published twice) finds its mail here and is not sent a second time. A local
/// LiteDB file: it survives restarts of the process, not the loss of the machine, and instances on
/// different machines do not share it.
/// </summary>
internal sealed class SentMailLog : IDisposable
{
    /// <summary>Records are kept this long: far longer than any redelivery, and than an activation link can live (Accounts:ActivationTokenLifetime is at most 30 days).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromDays(31);

    private static readonly TimeSpan PurgeInterval = TimeSpan.FromHours(1);

    private readonly LiteDatabase _database;
    private readonly ILiteCollection<SentMail> _mails;
    private readonly TimeProvider _time;
    private DateTimeOffset _nextPurge;

    public SentMailLog(string connectionString, TimeProvider time)
    {
        var connection = new ConnectionString(connectionString);
        if (Path.GetDirectoryName(Path.GetFullPath(connection.Filename)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var mapper = new BsonMapper();
        mapper.Entity<SentMail>().Id(m => m.Id, autoId: false);
        _database = new LiteDatabase(connection, mapper);
        _mails = _database.GetCollection<SentMail>("sent_mails");
        _mails.EnsureIndex(m => m.SentAt);
        _time = time;
    }

    public bool WasSent(string eventId) => _mails.FindById(eventId) is not null;

    /// <summary>Records that the mail of <paramref name="eventId"/> was accepted by the SMTP server.</summary>
    public void Record(string eventId, string userId)
    {
        var now = _time.GetUtcNow();
        _mails.Upsert(new SentMail { Id = eventId, UserId = userId, SentAt = now.UtcDateTime });
        if (now >= _nextPurge)
        {
            _nextPurge = now + PurgeInterval;
            var before = (now - Retention).UtcDateTime;
            _mails.DeleteMany(m => m.SentAt < before);
        }
    }

    public void Dispose() => _database.Dispose();

    internal sealed class SentMail
    {
        /// <summary>The event id.</summary>
        public required string Id { get; set; }

        public required string UserId { get; set; }

        public DateTime SentAt { get; set; }
    }
}
