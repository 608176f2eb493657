using System.Net.Sockets;
using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// What the HTTP connectors (<c>snowflake</c>, <c>bigquery</c>, <c>databricks</c>, <c>looker</c>; <c>dbt</c>'s
/// transport wording) share on top of the one connector HTTP client (<see cref="ConnectorsExtensions.HttpClientName"/>):
/// send a request, fail on a redirect, read a JSON answer of bounded size (<see cref="ExchangeAsync"/>, where the caller
/// decides what a status means), or turn an error answer into a run error that names the status and, where the vendor
/// documents one, its machine-readable message (<see cref="SendAsync"/>). Transport failures are described in this
/// server's words (<see cref="Cause"/>); nothing here quotes an answer.
/// </summary>
internal static class ConnectorHttp
{
    /// <summary>The largest JSON answer read (one page of a listing): 64 MiB.</summary>
    public const int MaxAnswerBytes = 64 * 1024 * 1024;

    /// <summary>An answer: its status and its JSON body (null when empty or not JSON; <see cref="NotJson"/> says which).</summary>
    public sealed record Answer(int Status, JsonDocument? Body, bool NotJson) : IDisposable
    {
        public void Dispose() => Body?.Dispose();
    }

    /// <summary>
    /// Sends <paramref name="request"/> (asking for JSON) and reads the answer, whatever its status: a 3xx and transport
    /// failures fail naming <paramref name="where"/>; a body over <see cref="MaxAnswerBytes"/> fails.
    /// </summary>
    public static async Task<Answer> ExchangeAsync(HttpClient client, HttpRequestMessage request, string where, CancellationToken ct)
    {
        request.Headers.Accept.Add(new System.Net.Http.Headers.MediaTypeWithQualityHeaderValue("application/json"));
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
            throw new SyncFailedException($"could not reach {where}: {Cause(ex)}", ex);
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
                throw new SyncFailedException($"the answer of {where} broke off: {Cause(ex)}", ex);
            }
            catch (SyncFailedException ex)
            {
                throw new SyncFailedException($"{where}: {ex.Message}", ex);
            }

            if (bytes.Length == 0)
            {
                return new Answer(status, null, NotJson: false);
            }

            try
            {
                return new Answer(status, JsonDocument.Parse(bytes), NotJson: false);
            }
            catch (JsonException)
            {
                return new Answer(status, null, NotJson: true);
            }
        }
    }

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
        var answer = await ExchangeAsync(client, request, where, ct);
        if (answer.Status is >= 200 and < 300)
        {
            return answer.NotJson
                ? throw new SyncFailedException($"{where} answered {answer.Status} with a body that is not JSON")
                : answer.Body;
        }

        using (answer)
        {
            throw new SyncFailedException(failure(answer.Status, answer.Body is null ? null : Bounded(vendorMessage(answer.Body.RootElement))));
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

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken ct)
    {
        if (content.Headers.ContentLength is > MaxAnswerBytes)
        {
            throw new SyncFailedException($"an answer of {content.Headers.ContentLength} bytes is larger than the {MaxAnswerBytes} bytes this server reads");
        }

        await using var stream = await content.ReadAsStreamAsync(ct);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxAnswerBytes)
            {
                throw new SyncFailedException($"an answer is larger than the {MaxAnswerBytes} bytes this server reads");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>A vendor's message, on one line and at most 300 characters; null when there is none.</summary>
    public static string? Bounded(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }

        var line = string.Join(' ', message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length <= 300 ? line : line[..299] + "…";
    }
}
