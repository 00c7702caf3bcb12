using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.WebUtilities;
using MimeKit;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// Real SMTP servers for the tests: Debian's <c>python3-aiosmtpd</c> (scripts/test.sh installs it),
/// one per test system, started here on a free port and storing every mail it accepts as a file in a
/// Maildir. <c>MOVIEDB_TEST_SMTP_PYTHON</c> names the interpreter (default <c>/usr/bin/python3</c>:
/// the <c>python3</c> first on PATH may be another one, which does not see apt's packages). Without
/// it the tests that need mail skip with the reason — except under <c>CI=true</c>, where they fail.
/// </summary>
public sealed class SmtpServers
{
    public const string PythonEnvironmentVariable = "MOVIEDB_TEST_SMTP_PYTHON";

    private readonly Lazy<string?> _unavailableReason = new(FindUnavailableReason);

    /// <summary>The Python that runs aiosmtpd.</summary>
    public static string Python => Environment.GetEnvironmentVariable(PythonEnvironmentVariable) is { Length: > 0 } python ? python : "/usr/bin/python3";

    /// <summary>Why no SMTP server can run here, or null. Cheap after the first call.</summary>
    public string? UnavailableReason => _unavailableReason.Value;

    /// <summary>Starts a server on a free port; fails or skips the test when aiosmtpd cannot run here.</summary>
    /// <param name="holding">
    /// Use a Maildir handler that, while a file named <c>hold</c> exists in the mail folder, stores each
    /// mail and then keeps the client waiting for its 250 answer (see <see cref="TestMailServer.Hold"/>).
    /// </param>
    public async Task<TestMailServer> StartAsync(bool holding = false)
    {
        if (UnavailableReason is { } reason)
        {
            throw TestServers.Unavailable("An SMTP server (aiosmtpd)", reason, requiredInCi: true);
        }

        var server = new TestMailServer(Path.Combine(Path.GetTempPath(), "moviedb-tests", "mail-" + Guid.NewGuid().ToString("N")[..8]), holding);
        await server.StartAsync();
        return server;
    }

    private static string? FindUnavailableReason()
    {
        if (Path.IsPathRooted(Python) && !File.Exists(Python))
        {
            return $"{Python} does not exist. Install python3-aiosmtpd from apt (scripts/test.sh does), or set {PythonEnvironmentVariable}.";
        }

        try
        {
            using var check = Process.Start(new ProcessStartInfo(Python, ["-c", "import aiosmtpd"]) { RedirectStandardError = true, UseShellExecute = false })!;
            var error = check.StandardError.ReadToEnd();
            return check.WaitForExit(30_000) && check.ExitCode == 0
                ? null
                : $"{Python} cannot import aiosmtpd ({error.Trim()}). Install python3-aiosmtpd from apt (scripts/test.sh does).";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"{Python} cannot be run: {ex.Message}";
        }
    }
}

/// <summary>
/// One aiosmtpd process (<c>python3 -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Mailbox DIR</c>)
/// that can be stopped and started again on the same port, as an SMTP outage.
/// </summary>
public sealed class TestMailServer : IAsyncDisposable
{
    // Servers that outlive a failed test are killed when the test run ends.
    private static readonly ConcurrentDictionary<int, Process> Running = new();

    // Stores the mail like Mailbox, then holds the 250 answer while DIR/hold exists.
    private const string HoldingHandler = """
        import asyncio
        import os
        from aiosmtpd.handlers import Mailbox


        class HoldingMailbox(Mailbox):
            async def handle_DATA(self, server, session, envelope):
                answer = await super().handle_DATA(server, session, envelope)
                while os.path.exists(os.path.join(self.mail_dir, "hold")):
                    await asyncio.sleep(0.05)
                return answer
        """;

    private readonly bool _holding;
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    static TestMailServer() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        foreach (var process in Running.Values)
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        }
    };

    internal TestMailServer(string directory, bool holding)
    {
        Directory = directory;
        _holding = holding;
        Mailbox = new Maildir(Path.Combine(directory, "mail"));
    }

    public int Port { get; } = ServiceProcess.FreePort();

    /// <summary>The folder of this server: the Maildir (<c>mail/</c>) and the handler module.</summary>
    public string Directory { get; }

    public Maildir Mailbox { get; }

    /// <summary>What <c>ConnectionStrings:mail</c> is set to.</summary>
    public string ConnectionString => $"smtp://127.0.0.1:{Port}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the server (again, on the same port) and waits until it accepts connections.</summary>
    public async Task StartAsync(int? maxMessageSize = null)
    {
        foreach (var folder in new[] { "tmp", "new", "cur" })
        {
            System.IO.Directory.CreateDirectory(Path.Combine(Mailbox.Directory, folder));
        }

        var start = new ProcessStartInfo(SmtpServers.Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var argument in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{Port}" })
        {
            start.ArgumentList.Add(argument);
        }

        if (maxMessageSize is { } size)
        {
            start.ArgumentList.Add("-s");
            start.ArgumentList.Add(size.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        start.ArgumentList.Add("-c");
        if (_holding)
        {
            await File.WriteAllTextAsync(Path.Combine(Directory, "holding_mailbox.py"), HoldingHandler, TestContext.Current.CancellationToken);
            start.Environment["PYTHONPATH"] = Directory;
            start.ArgumentList.Add("holding_mailbox.HoldingMailbox");
        }
        else
        {
            start.ArgumentList.Add("aiosmtpd.handlers.Mailbox");
        }

        start.ArgumentList.Add(Mailbox.Directory);

        _process = new Process { StartInfo = start };
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.Start();
        Running[_process.Id] = _process;
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var watch = Stopwatch.StartNew();
        while (!Accepts())
        {
            if (_process.HasExited || watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.Fail($"aiosmtpd did not start on port {Port}. Output:\n{string.Join('\n', _output)}");
            }

            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Stops the server (an SMTP outage); <see cref="StartAsync"/> brings it back on the same port.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            _process.Kill();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(timeout.Token);
        }

        Running.TryRemove(_process.Id, out _);
        _process.Dispose();
        _process = null;
    }

    /// <summary>
    /// From now on (until <see cref="Release"/>) a mail is stored, but the client waits for the
    /// server's "accepted": the moment between "the server has it" and "the client knows". Needs a
    /// server started with <c>holding: true</c>.
    /// </summary>
    public void Hold()
    {
        Assert.True(_holding, "this server was not started with holding: true");
        File.WriteAllText(Path.Combine(Mailbox.Directory, "hold"), string.Empty);
    }

    public void Release() => File.Delete(Path.Combine(Mailbox.Directory, "hold"));

    private bool Accepts()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Record(string? line)
    {
        if (line is not null && _output.Count < 500)
        {
            _output.Enqueue(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A Maildir as aiosmtpd's Mailbox handler writes it: one file per mail in <c>new/</c>.</summary>
public sealed partial class Maildir(string directory)
{
    public string Directory { get; } = directory;

    /// <summary>Every mail received so far for <paramref name="address"/>, oldest first.</summary>
    public IReadOnlyList<ReceivedMail> To(string address)
    {
        var files = new[] { "new", "cur" }
            .Select(folder => Path.Combine(Directory, folder))
            .Where(System.IO.Directory.Exists)
            .SelectMany(System.IO.Directory.EnumerateFiles)
            .Select(path => new FileInfo(path))
            .OrderBy(file => file.LastWriteTimeUtc)
            .ThenBy(file => file.Name, StringComparer.Ordinal);

        var mails = new List<ReceivedMail>();
        foreach (var file in files)
        {
            var message = MimeMessage.Load(file.FullName);
            if (message.To.Mailboxes.Any(m => string.Equals(m.Address, address, StringComparison.OrdinalIgnoreCase)))
            {
                mails.Add(new ReceivedMail(file.FullName, message));
            }
        }

        return mails;
    }

    /// <summary>Waits (bounded) until at least <paramref name="count"/> mails for <paramref name="address"/> have arrived and returns them all.</summary>
    public async Task<IReadOnlyList<ReceivedMail>> WaitForAsync(string address, int count = 1, TimeSpan? timeout = null)
    {
        IReadOnlyList<ReceivedMail> mails = [];
        await Wait.UntilAsync(() => (mails = To(address)).Count >= count, $"{count} mail(s) to {address} in {Directory}", timeout ?? TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        return mails;
    }
}

/// <summary>One received mail and the activation link in it.</summary>
public sealed partial record ReceivedMail(string Path, MimeMessage Message)
{
    public string Text => Message.TextBody ?? string.Empty;

    public string Html => Message.HtmlBody ?? string.Empty;

    /// <summary>The first link in the plain-text body that carries a token.</summary>
    public Uri Link => LinkPattern().Matches(Text).Select(m => new Uri(m.Value)).FirstOrDefault(uri => uri.Query.Contains("token=", StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"No activation link in the mail {Path}:\n{Text}");

    /// <summary>The token of <see cref="Link"/>, URL-decoded.</summary>
    public string Token => QueryHelpers.ParseQuery(Link.Query)["token"].ToString();

    [GeneratedRegex(@"https?://\S+", RegexOptions.CultureInvariant)]
    private static partial Regex LinkPattern();
}
