using System.Net;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>A body sent without Content-Length, so only the server's own count can stop it.</summary>
public sealed class UnknownLengthContent(int length) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var chunk = new byte[64 * 1024];
        for (var left = length; left > 0; left -= chunk.Length)
        {
            await stream.WriteAsync(chunk.AsMemory(0, Math.Min(left, chunk.Length)));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
