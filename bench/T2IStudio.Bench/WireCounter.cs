using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace T2IStudio.Bench;

/// <summary>
/// Counts every byte a Kestrel endpoint reads and writes (HTTP, WebSocket frames and SignalR messages alike), as a
/// connection middleware: what a remote worker's traffic costs on the wire, not what the messages should weigh.
/// </summary>
internal sealed class WireCounter
{
    private long _received;
    private long _sent;

    /// <summary>Bytes read from clients so far.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Bytes written to clients so far.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>The middleware: the connection's transport wrapped in a counting stream for its whole life.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var transport = connection.Transport;
        var stream = new CountingStream(transport.Input.AsStream(leaveOpen: true), transport.Output.AsStream(leaveOpen: true), this);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        var writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
        connection.Transport = new Duplex(reader, writer);
        try
        {
            await next(connection);
        }
        finally
        {
            await reader.CompleteAsync();
            await writer.CompleteAsync();
            connection.Transport = transport;
        }
    };

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class CountingStream(Stream input, Stream output, WireCounter counter) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await input.ReadAsync(buffer, cancellationToken);
            Interlocked.Add(ref counter._received, read);
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Interlocked.Add(ref counter._sent, buffer.Length);
            return output.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

        public override void Flush() => output.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
