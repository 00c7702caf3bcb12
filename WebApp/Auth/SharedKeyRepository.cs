using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using MovieDb.ServiceDefaults;

namespace WebApp.Auth;

/// <summary>
/// The web app's Data Protection keys (they encrypt the session cookie, the device cookie and the
/// antiforgery tokens) in Redis, one list shared by every instance and kept across restarts: no key
/// files, no session affinity. While Redis is unreachable, the keys last read from it stay in use, and
/// a key this instance must make meanwhile is kept in its memory until Redis can take it — pages and
/// forms keep working; only a cookie made with such a key is unknown to the other instances until then.
/// </summary>
internal sealed partial class SharedKeyRepository(SharedCache cache, ILogger<SharedKeyRepository> logger) : IXmlRepository
{
    private readonly RedisXmlRepository _redis = new(() => cache.Database, "data-protection-keys");
    private readonly Lock _gate = new();
    private IReadOnlyCollection<XElement> _lastRead = [];
    private readonly List<(XElement Element, string Name)> _unsaved = [];

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        try
        {
            SaveUnsaved();
            var elements = _redis.GetAllElements();
            lock (_gate)
            {
                _lastRead = elements;
            }

            return elements;
        }
        catch (Exception ex) when (SharedCache.IsUnavailable(ex) || ex is StackExchange.Redis.RedisException)
        {
            LogUnavailable(logger, ex);
            lock (_gate)
            {
                return [.. _lastRead, .. _unsaved.Select(u => u.Element)];
            }
        }
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        try
        {
            _redis.StoreElement(element, friendlyName);
        }
        catch (Exception ex) when (SharedCache.IsUnavailable(ex) || ex is StackExchange.Redis.RedisException)
        {
            LogUnavailable(logger, ex);
            lock (_gate)
            {
                _unsaved.Add((element, friendlyName));
            }
        }
    }

    private void SaveUnsaved()
    {
        List<(XElement Element, string Name)> pending;
        lock (_gate)
        {
            pending = [.. _unsaved];
        }

        foreach (var (element, name) in pending)
        {
            _redis.StoreElement(element, name);
            lock (_gate)
            {
                _unsaved.Remove((element, name));
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis is unreachable: the web app goes on with the Data Protection keys it last read (and any it makes now stay here until Redis answers)")]
    private static partial void LogUnavailable(ILogger logger, Exception exception);
}
