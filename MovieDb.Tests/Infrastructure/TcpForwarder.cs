using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace MovieDb.Tests.Infrastructure;

/// <summary>
/// A TCP port that forwards to a real server once <see cref="Start"/> is called, and refuses
/// connections before: a server that "comes up later" without stopping the shared one. It can also
/// cut every connection it forwards (<see cref="CutAll"/>), as a crash or a network failure would, or
/// stop passing anything on (<see cref="Stall"/>), as a server that hangs would.
/// </summary>
public sealed class TcpForwarder(int port, string targetHost, int targetPort) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<TcpClient, TcpClient> _open = new();
    private TcpListener? _listener;
    private Task? _accepting;

    private int _disposed;
    private bool _stalled;

    public int Port { get; } = port;

    public void Start()
    {
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Start();
        _accepting = AcceptAsync(_listener, _stop.Token);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = PipeAsync(client, cancellationToken);
        }
    }

    private async Task PipeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(targetHost, targetPort, cancellationToken);
                _open[client] = server;
                var up = PumpAsync(client.GetStream(), server.GetStream(), cancellationToken);
                var down = PumpAsync(server.GetStream(), client.GetStream(), cancellationToken);
                await Task.WhenAny(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Either side went away: the connection ends, as it would without the forwarder.
            }
            finally
            {
                _open.TryRemove(client, out _);
            }
        }
    }

    /// <summary>
    /// From now on nothing is passed on in either direction, and nothing is closed: a server (or a
    /// network) that stopped answering — every request waits for its time-out.
    /// </summary>
    public void Stall() => Volatile.Write(ref _stalled, true);

    private async Task PumpAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, cancellationToken)) > 0)
        {
            while (Volatile.Read(ref _stalled))
            {
                await Task.Delay(50, cancellationToken);
            }

            await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>
    /// Cuts every connection open now, on both sides: with a reset (<paramref name="reset"/>: no
    /// goodbye, as when a machine or the network fails) or with an orderly close (as when a process
    /// dies and its system closes its sockets). The client sees its connection fail in the middle of
    /// whatever it was doing. Later connections are forwarded again.
    /// </summary>
    public void CutAll(bool reset)
    {
        foreach (var (client, server) in _open)
        {
            foreach (var socket in new[] { client.Client, server.Client })
            {
                try
                {
                    if (reset)
                    {
                        socket.Close(0);
                    }
                    else
                    {
                        socket.Shutdown(SocketShutdown.Both);
                        socket.Close();
                    }
                }
                catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
                {
                    // It closed by itself meanwhile.
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener?.Stop();
        if (_accepting is not null)
        {
            await _accepting;
        }

        _stop.Dispose();
    }
}
