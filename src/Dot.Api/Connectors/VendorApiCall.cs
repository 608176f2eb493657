using System.Net.Http.Headers;
using System.Text.Json;
using Dot.Api.Sync;

namespace Dot.Api.Connectors;

/// <summary>
/// One JSON request to a vendor's REST API (Snowflake's SQL API, BigQuery's), through the shared connector client:
/// transport failures in this server's words, a 3xx refused, the answer read into a bounded buffer and parsed.
/// The caller decides what a status means; nothing here quotes the answer.
/// </summary>
internal static class VendorApiCall
{
    /// <summary>The largest answer read (a page of catalogue rows is far smaller).</summary>
    public const int MaxAnswerBytes = 64 * 1024 * 1024;

    /// <summary>The status and the parsed JSON body (null when the body is empty or not JSON).</summary>
    public sealed record Answer(int Status, JsonDocument? Body) : IDisposable
    {
        public void Dispose() => Body?.Dispose();
    }

    public static async Task<Answer> SendAsync(HttpClient client, HttpRequestMessage request, string where, CancellationToken ct)
    {
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        request.Headers.UserAgent.ParseAdd("Dot-API/1.0");
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException ex) when (ExceptionChain.Find<ConnectorTargetRefusedException>(ex) is { } refused)
        {
            throw new SyncFailedException($"refused to connect to {where}: {refused.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SyncFailedException($"could not reach {where}: {ConnectorHttp.Cause(ex)}", ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                throw new SyncFailedException($"{where} redirects (answered {status}): this server does not follow redirects; "
                    + "configure the final URL in the connection");
            }

            byte[] bytes;
            try
            {
                bytes = await ReadBoundedAsync(response.Content, ct);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw new SyncFailedException($"the answer from {where} broke off: {ConnectorHttp.Cause(ex)}", ex);
            }

            if (bytes.Length == 0)
            {
                return new Answer(status, null);
            }

            try
            {
                return new Answer(status, JsonDocument.Parse(bytes));
            }
            catch (JsonException)
            {
                return new Answer(status, null);
            }
        }
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken ct)
    {
        if (content.Headers.ContentLength > MaxAnswerBytes)
        {
            throw new SyncFailedException($"an answer is larger than {MaxAnswerBytes / (1024 * 1024)} MiB, more than this server reads");
        }

        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes)
            {
                throw new SyncFailedException($"an answer is larger than {MaxAnswerBytes / (1024 * 1024)} MiB, more than this server reads");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>A string property of a JSON object, or null.</summary>
    public static string? Text(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>A vendor's message, bounded and on one line (it is shown in the run's error).</summary>
    public static string? Bounded(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }

        var line = string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length <= 300 ? line : line[..300] + "…";
    }
}
