using System.Net.Sockets;
using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// What the REST connectors (<c>databricks</c>, <c>looker</c>) share on top of the one connector HTTP client
/// (<see cref="ConnectorsExtensions.HttpClientName"/>): send a request, fail on a redirect, turn an error answer into a
/// run error that names the status and, where the vendor documents one, its machine-readable message, and read a JSON
/// answer of bounded size. Transport failures are described in this server's words (<see cref="Cause"/>).
/// </summary>
internal static class ConnectorHttp
{
    /// <summary>The largest JSON answer read (one page of a listing): 64 MiB.</summary>
    public const int MaxAnswerBytes = 64 * 1024 * 1024;

    /// <summary>
    /// Sends <paramref name="request"/> and returns the JSON of a 2xx answer (null for 204 or an empty body).
    /// A 3xx fails naming <paramref name="where"/>; another status fails with <paramref name="failure"/>'s message,
    /// given the status and the vendor's error message read from the body by <paramref name="vendorMessage"/> (null
    /// when the body is not the vendor's documented error JSON).
    /// </summary>
    public static async Task<JsonDocument?> SendAsync(
        HttpClient client,
        HttpRequestMessage request,
        string where,
        Func<JsonElement, string?> vendorMessage,
        Func<int, string?, string> failure,
        CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        }
        catch (HttpRequestException ex) when (ExceptionChain.Find<ConnectorTargetRefusedException>(ex) is { } refused)
        {
            throw new Sync.SyncFailedException($"refused to connect to {where}: {refused.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new Sync.SyncFailedException($"could not reach {where}: {Cause(ex)}", ex);
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                throw new Sync.SyncFailedException($"{where} redirects (answered {status}): this server does not follow redirects; "
                    + "configure the final URL in the connection");
            }

            JsonDocument? body;
            try
            {
                body = await ReadJsonAsync(response, ct);
            }
            catch (JsonException) when (!response.IsSuccessStatusCode)
            {
                body = null;
            }
            catch (JsonException ex)
            {
                throw new Sync.SyncFailedException($"{where} answered {status} with a body that is not JSON", ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw new Sync.SyncFailedException($"the answer of {where} broke off: {Cause(ex)}", ex);
            }
            catch (Sync.SyncFailedException ex)
            {
                throw new Sync.SyncFailedException($"{where}: {ex.Message}", ex);
            }

            if (response.IsSuccessStatusCode)
            {
                return body;
            }

            using (body)
            {
                string? message = null;
                if (body is not null)
                {
                    message = vendorMessage(body.RootElement);
                    message = message is null ? null : Clip(message);
                }

                throw new Sync.SyncFailedException(failure(status, message));
            }
        }
    }

    /// <summary>A JSON object's string property, or null.</summary>
    public static string? String(JsonElement element, string name)
        => element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    /// <summary>
    /// What went wrong, in this server's words: some of HttpClient's messages quote the answer ("Received an invalid
    /// status line: '…'", a chunk header, a header line), which would make the server a probe that shows what
    /// answers on any port. A socket error's text is the operating system's.
    /// </summary>
    public static string Cause(Exception ex)
    {
        if (ExceptionChain.Find<SocketException>(ex) is { } socket)
        {
            return socket.Message;
        }

        var error = ExceptionChain.Find<HttpRequestException>(ex)?.HttpRequestError ?? ExceptionChain.Find<HttpIOException>(ex)?.HttpRequestError ?? HttpRequestError.Unknown;
        return error switch
        {
            HttpRequestError.NameResolutionError => "the host name does not resolve",
            HttpRequestError.ConnectionError => "the connection failed",
            HttpRequestError.SecureConnectionError => "the TLS handshake failed (is the certificate valid for this host name?)",
            HttpRequestError.InvalidResponse => "the answer is not valid HTTP",
            HttpRequestError.ResponseEnded => "the connection closed before the answer was complete",
            HttpRequestError.HttpProtocolError => "the server broke the HTTP protocol",
            HttpRequestError.VersionNegotiationError => "no HTTP version both sides speak",
            HttpRequestError.ConfigurationLimitExceeded => "the answer's headers are larger than this server accepts",
            _ => "the request failed",
        };
    }

    /// <summary>
    /// An http or https URL without user info, query or fragment, as a base (no trailing slash); null when
    /// <paramref name="text"/> is not one.
    /// </summary>
    public static Uri? BaseUrl(string text)
    {
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "https://" + text;
        }

        return Uri.TryCreate(text.TrimEnd('/'), UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            && !string.IsNullOrEmpty(uri.Host) && uri.UserInfo.Length == 0 && uri.Query.Length == 0 && uri.Fragment.Length == 0
            ? uri
            : null;
    }

    /// <summary>A URL as errors and logs show it: scheme, host, port and path (never user info or query).</summary>
    public static string Describe(Uri url) => url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);

    private static async Task<JsonDocument?> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.Content.Headers.ContentLength is > MaxAnswerBytes)
        {
            throw new Sync.SyncFailedException($"an answer of {response.Content.Headers.ContentLength} bytes is larger than the {MaxAnswerBytes} bytes this server reads");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes)
            {
                throw new Sync.SyncFailedException($"an answer is larger than the {MaxAnswerBytes} bytes this server reads");
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return null;
        }

        buffer.Position = 0;
        return await JsonDocument.ParseAsync(buffer, default, ct);
    }

    /// <summary>A vendor's message, on one line and at most 300 characters.</summary>
    private static string Clip(string message)
    {
        var line = string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length <= 300 ? line : line[..299] + "…";
    }
}
