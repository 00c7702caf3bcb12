using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using MovieDb.Caching;

namespace WebApp.Auth;

/// <summary>
/// The web app's Data Protection keys (they encrypt the session cookie, the device cookie and the
/// antiforgery tokens) in Redis (Microsoft.AspNetCore.DataProtection.StackExchangeRedis's list), one
/// set shared by every instance and kept across restarts: no key files, no session affinity.
/// </summary>
/// <remarks>
/// While Redis is unreachable, the keys last read from it stay in use, so an instance that has read
/// them serves on. An instance that has never read them (it started during the outage) makes none of
/// its own — the others would not know it — and is not ready (<see cref="ReadinessCheck"/>) until it
/// has read them. A key this
/// instance must make while Redis is away is kept here and stored once Redis answers — once: a store
/// whose answer was lost may have reached Redis, so it is looked for before it is stored again (two
/// copies of one key would stop every new instance from reading the list).
/// </remarks>
internal sealed class SharedKeyRepository(SharedCache cache) : IXmlRepository
{
    private const string What = "the web app's Data Protection keys";

    private readonly RedisXmlRepository _redis = new(() => cache.Database, "data-protection-keys");
    private readonly Lock _gate = new();
    private readonly List<(XElement Element, string Name)> _unsaved = [];
    private IReadOnlyCollection<XElement> _lastRead = [];
    private bool _hasRead;

    /// <summary>True once the keys were read from Redis.</summary>
    public bool HasRead
    {
        get
        {
            lock (_gate)
            {
                return _hasRead;
            }
        }
    }

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        if (cache.ShouldTry)
        {
            try
            {
                SaveUnsaved();
                var elements = _redis.GetAllElements();
                lock (_gate)
                {
                    (_lastRead, _hasRead) = (elements, true);
                }

                return elements;
            }
            catch (Exception ex) when (SharedCache.IsUnavailable(ex))
            {
                cache.ReportUnavailable(ex, What);
            }
        }

        lock (_gate)
        {
            // Never read: no key of this instance's own, which the others would not know. It is not
            // ready (ReadinessCheck), so the ingress sends it nothing until Redis answers.
            return _hasRead
                ? [.. _lastRead, .. _unsaved.Select(u => u.Element)]
                : throw new InvalidOperationException("The Data Protection keys have not been read from Redis yet, and Redis does not answer.");
        }
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (_gate)
        {
            _unsaved.Add((element, friendlyName));
        }

        if (cache.ShouldTry)
        {
            try
            {
                SaveUnsaved();
            }
            catch (Exception ex) when (SharedCache.IsUnavailable(ex))
            {
                cache.ReportUnavailable(ex, What);
            }
        }
    }

    /// <summary>Stores the keys made here that Redis does not hold yet, one at a time, each once.</summary>
    private void SaveUnsaved()
    {
        lock (_gate)
        {
            if (_unsaved.Count == 0)
            {
                return;
            }

            var stored = _redis.GetAllElements().Select(KeyId).ToHashSet(StringComparer.Ordinal);
            foreach (var (element, name) in _unsaved.ToList())
            {
                if (!stored.Contains(KeyId(element)))
                {
                    _redis.StoreElement(element, name);
                }

                _unsaved.Remove((element, name));
            }
        }
    }

    private static string KeyId(XElement element) => (string?)element.Attribute("id") ?? element.ToString(SaveOptions.DisableFormatting);

    /// <summary>Unhealthy until the keys were read from Redis once: an instance without them must not take requests.</summary>
    internal sealed class ReadinessCheck(SharedKeyRepository keys) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!keys.HasRead)
            {
                try
                {
                    keys.GetAllElements();
                }
                catch (InvalidOperationException)
                {
                    // Still unread: reported below.
                }
            }

            return Task.FromResult(keys.HasRead
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The Data Protection keys were not read from Redis yet: this instance could read no cookie and make none the others can."));
        }
    }
}
