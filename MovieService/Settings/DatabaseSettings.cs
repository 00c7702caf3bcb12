using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace MovieService.Settings;

/// <summary>Database settings (section <c>Database</c>); the connection string is <c>ConnectionStrings:moviedb</c>.</summary>
public sealed class DatabaseSettings
{
    public const string SectionName = "Database";

    /// <summary>
    /// The server version, e.g. <c>8.0.36-mysql</c> or <c>10.11.0-mariadb</c>. When unset it is read
    /// from the server once, at first use (which needs the server to be up).
    /// </summary>
    public string? ServerVersion { get; set; }

    /// <summary>Retries of a command that failed for a transient reason. Default 3.</summary>
    public int MaxRetryCount { get; set; } = 3;

    /// <summary>Longest pause between retries. Default 2 s: an HTTP caller should get a 503 soon, not after half a minute.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>The server version Pomelo generates SQL for: configured, or detected once and remembered.</summary>
internal sealed class ServerVersionSource(string connectionString, string? configured)
{
    private ServerVersion? _version = configured is { Length: > 0 } ? ServerVersion.Parse(configured) : null;

    public ServerVersion Get()
    {
        if (_version is not null)
        {
            return _version;
        }

        // Detect without a database name: the database may not exist yet (migrations create it).
        var builder = new MySqlConnectionStringBuilder(connectionString) { Database = string.Empty };
        return _version = ServerVersion.AutoDetect(builder.ConnectionString);
    }
}
