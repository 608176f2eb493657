using Microsoft.AspNetCore.Http.Features;

namespace Dot.Api.Sync;

/// <summary>The raw bytes of a trigger's body, read once, for a signature over exactly what was sent.</summary>
internal static class WebhookBody
{
    /// <summary>
    /// The whole body, or null as soon as it is larger than <paramref name="limit"/> (counted here, as
    /// <see cref="Infrastructure.RequestBodies.DrainAsync"/> counts, so the limit holds on any server).
    /// </summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return null;
        }

        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } max)
        {
            max.MaxRequestBodySize = limit;
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }

        return buffer.ToArray();
    }
}
