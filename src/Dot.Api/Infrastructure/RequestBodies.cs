using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Dot.Api.Infrastructure;

/// <summary>For endpoints that accept any body and ignore it (webhooks).</summary>
public static class RequestBodies
{
    public const long OneMebibyte = 1024 * 1024;

    /// <summary>
    /// Reads the body to its end without keeping it, counting bytes; false as soon as it is larger than
    /// <paramref name="limit"/>. The count is ours, so the limit holds on any server (the in-memory test
    /// server enforces none); on Kestrel the request's own limit is lowered to match as well.
    /// </summary>
    public static async Task<bool> DrainAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return false;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } max)
        {
            max.MaxRequestBodySize = limit;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
                if (total > limit)
                {
                    return false;
                }
            }

            return true;
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
