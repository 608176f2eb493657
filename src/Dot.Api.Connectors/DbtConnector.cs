using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dot.Api.Connectors;

/// <summary>
/// <c>dbt</c>: reads models, seeds and sources, with their descriptions and columns, from a dbt <c>manifest.json</c>
/// named by the setting <c>manifest_path</c> (an absolute file path on the server), <c>manifest_url</c> (http or
/// https; or the secret <c>manifest_url</c>, for a signed URL), or <c>account_id</c> and <c>job_id</c> (the job's latest manifest in dbt Cloud's artifacts API). A URL is
/// fetched with the secret <c>manifest_token</c> (or <c>api_token</c>) as a bearer token, or <c>authorization</c> as
/// the whole Authorization header. The file is streamed (<see cref="DbtManifestReader"/>).
/// </summary>
internal sealed partial class DbtConnector(IHttpClientFactory httpClients, IOptions<ConnectorOptions> options, ILogger<DbtConnector> logger)
    : ISyncConnector
{
    /// <summary>Why a dbt connection may not name a file on this server: at creation (a 422) and in a run's error.</summary>
    public const string ManifestPathDisabled = "manifest_path reads a file on the server, which this server does not allow: set "
        + ConnectorOptions.Section + ":AllowManifestPath to true to enable it, or give manifest_url, or account_id and job_id.";

    public const int DefaultTimeoutSeconds = 120;

    /// <summary>
    /// dbt Cloud's shared region URLs, which dbt retired on 1 November 2026 in favour of account-specific access URLs
    /// (https://docs.getdbt.com/docs/cloud/about-cloud/account-url-migration): a <c>cloud_url</c> or <c>manifest_url</c>
    /// on one of them is refused at creation and fails the run of a connection stored earlier.
    /// </summary>
    public static readonly IReadOnlyList<string> RetiredCloudHosts = ["cloud.getdbt.com", "emea.dbt.com", "au.dbt.com"];

    /// <summary>What to use instead of the retired default and region URLs: the account's own access URL.</summary>
    public const string AccessUrlAdvice = "your account's access URL, https://ACCOUNT_PREFIX.us1.dbt.com in North America (ACCOUNT_PREFIX.us2 "
        + "or .us3 on Azure or GCP), https://ACCOUNT_PREFIX.eu1.dbt.com in EMEA, https://ACCOUNT_PREFIX.au1.dbt.com in APAC, or a "
        + "single-tenant instance's own URL; dbt Cloud shows it in Account settings";

    /// <summary>Why account_id and job_id need cloud_url: at creation (a 422) and in a run's error.</summary>
    public const string CloudUrlRequired = "the dbt settings account_id and job_id need the setting cloud_url: " + AccessUrlAdvice
        + " (the shared https://cloud.getdbt.com that was the default is retired).";

    /// <summary>The message for a setting whose URL names a retired dbt Cloud host; null when it does not.</summary>
    public static string? RetiredHostProblem(string setting, string? value)
    {
        if (value is null || SettingUrls.HasCredentials(setting, value))
        {
            return null;
        }

        var text = value.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "https://" + text;
        }

        return Uri.TryCreate(text, UriKind.Absolute, out var uri)
            && RetiredCloudHosts.Contains(uri.IdnHost.TrimEnd('.'), StringComparer.OrdinalIgnoreCase)
            ? $"the dbt setting {setting} names {uri.IdnHost.TrimEnd('.').ToLowerInvariant()}, a dbt Cloud region URL that dbt retired on 1 November 2026: use "
                + AccessUrlAdvice + "."
            : null;
    }

    public string Type => "dbt";

    public async Task<SyncOutcome> RunAsync(SyncJob job, CancellationToken ct)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        RefuseUrlCredentials(job);
        var path = settings.Text("manifest_path");
        foreach (var name in (string[])["cloud_url", "manifest_url"])
        {
            if (RetiredHostProblem(name, settings.Text(name)) is { } retired)
            {
                throw new SyncFailedException(retired);
            }
        }

        var url = settings.Text("manifest_url")
            ?? (job.Secrets.TryGetValue("manifest_url", out var secretUrl) ? secretUrl.Trim() : null)
            ?? DbtCloudUrl(settings);
        if ((path is null) == (url is null))
        {
            throw new SyncFailedException("the dbt connection needs exactly one of the settings manifest_path (a file on the server), "
                + "manifest_url (an http or https URL), or account_id and job_id (dbt Cloud).");
        }

        if (path is not null && !options.Value.AllowManifestPath)
        {
            throw new SyncFailedException(ManifestPathDisabled);
        }

        var timeout = settings.Integer("timeout_seconds", DefaultTimeoutSeconds, 1, 3600);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeout));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var source = path is not null ? $"the manifest file {path}" : $"the manifest at {Describe(ParseUrl(url!))}";
        Log.Reading(logger, job.SyncId, job.Secrets.Scrub(source));
        DbtManifestReader.Result result;
        try
        {
            result = path is not null
                ? await ReadFileAsync(path, linked.Token)
                : await ReadUrlAsync(ParseUrl(url!), job, linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new SyncFailedException($"timed out after {timeout} s reading {source} (timeout_seconds)");
        }

        Log.Read(logger, job.SyncId, result.SchemaVersion, result.DbtVersion ?? "?", result.Models, result.Seeds, result.Sources,
            result.Bytes, result.PeakBufferBytes);
        return SyncOutcome.Of(result.Catalog);
    }

    private static async Task<DbtManifestReader.Result> ReadFileAsync(string path, CancellationToken ct)
    {
        if (!Path.IsPathFullyQualified(path))
        {
            throw new SyncFailedException($"the dbt setting manifest_path must be an absolute path on the server, not {path}");
        }

        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SyncFailedException($"the manifest file {path} does not exist", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new SyncFailedException($"the manifest file {path} cannot be read: permission denied", ex);
        }
        catch (IOException ex)
        {
            throw new SyncFailedException($"the manifest file {path} cannot be read: {ex.Message}", ex);
        }

        await using (file)
        {
            try
            {
                return await DbtManifestReader.ReadAsync(file, ct);
            }
            catch (SyncFailedException ex)
            {
                throw new SyncFailedException($"{path}: {ex.Message}", ex);
            }
            catch (IOException ex)
            {
                throw new SyncFailedException($"the manifest file {path} cannot be read: {ex.Message}", ex);
            }
        }
    }

    private async Task<DbtManifestReader.Result> ReadUrlAsync(Uri url, SyncJob job, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("application/json");
        if (job.Secrets.TryGetValue("authorization", out var authorization))
        {
            if (!request.Headers.TryAddWithoutValidation("Authorization", authorization))
            {
                throw new SyncFailedException("the dbt secret authorization cannot be sent as an Authorization header.");
            }
        }
        else if (job.Secrets.TryGetValue("manifest_token", out var token) || job.Secrets.TryGetValue("api_token", out token))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        var where = Describe(url);
        var client = httpClients.CreateClient(ConnectorsExtensions.HttpClientName);
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
            // Only the status code: the reason phrase, the headers (Location) and the body are the remote's words.
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                throw new SyncFailedException($"{where} redirects (answered {status}): this server does not follow redirects; "
                    + "configure the final URL in the connection");
            }

            if (!response.IsSuccessStatusCode)
            {
                var hint = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                    ? job.Secrets.Names.Any(n => n is "manifest_token" or "api_token" or "authorization")
                        ? ": check the manifest_token (or api_token, or authorization) secret"
                        : ": give the connection a manifest_token (or authorization) secret"
                    : "";
                throw new SyncFailedException($"{where} answered {status}{hint}");
            }

            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                return await DbtManifestReader.ReadAsync(body, ct);
            }
            catch (SyncFailedException ex)
            {
                throw new SyncFailedException($"{where}: {ex.Message}", ex);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException)
            {
                throw new SyncFailedException($"the download from {where} broke off: {Cause(ex)}", ex);
            }
        }
    }

    /// <summary>
    /// What went wrong, in this server's words: some of HttpClient's messages quote the answer ("Received an invalid
    /// status line: '…'", a chunk header, a header line), which would make the server a probe that shows what
    /// answers on any port. A socket error's text is the operating system's.
    /// </summary>
    private static string Cause(Exception ex) => ConnectorHttp.Cause(ex);

    /// <summary>
    /// dbt Cloud's latest manifest of a job, from the settings <c>account_id</c>, <c>job_id</c> and <c>cloud_url</c> (the
    /// account's access URL, required since dbt retired the shared https://cloud.getdbt.com); null without account_id and job_id.
    /// </summary>
    private static string? DbtCloudUrl(ConnectorSettings settings)
    {
        var account = settings.Text("account_id");
        var jobId = settings.Text("job_id");
        if (account is null && jobId is null)
        {
            return null;
        }

        if (account is null || jobId is null || !account.All(char.IsAsciiDigit) || !jobId.All(char.IsAsciiDigit))
        {
            throw new SyncFailedException("the dbt settings account_id and job_id must both be given, as numbers (dbt Cloud's ids).");
        }

        var root = (settings.Text("cloud_url") ?? throw new SyncFailedException(CloudUrlRequired)).TrimEnd('/');
        if (!root.Contains("://", StringComparison.Ordinal))
        {
            root = "https://" + root;
        }

        return $"{root}/api/v2/accounts/{account}/jobs/{jobId}/artifacts/manifest.json";
    }

    /// <summary>
    /// A URL-valued setting with user info or a query string (stored before such values were refused at creation) fails
    /// the run before anything is read, logged or sent, naming the setting and never quoting it.
    /// </summary>
    private static void RefuseUrlCredentials(SyncJob job)
    {
        foreach (var (name, value) in job.Settings)
        {
            if (value.ValueKind == JsonValueKind.String && SettingUrls.HasCredentials(name, value.GetString()!))
            {
                throw new SyncFailedException($"the dbt setting {name} holds a user name, a password or a query string, which settings may no "
                    + "longer hold (they are stored in the clear): put the credential in the connection's secrets (manifest_token or "
                    + "authorization, or the whole signed URL as the secret manifest_url) and create the connection again.");
            }
        }
    }

    private static Uri ParseUrl(string url)
        => Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new SyncFailedException("the dbt setting manifest_url must be an absolute http or https URL.");

    /// <summary>The URL without its user info and query, which may carry credentials (scheme, host, port and path only).</summary>
    internal static string Describe(Uri url) => ConnectorHttp.Describe(url);

    private static partial class Log
    {
        [LoggerMessage(62, LogLevel.Information, "Sync {SyncId}: reading {Source}")]
        public static partial void Reading(ILogger logger, Guid syncId, string source);

        [LoggerMessage(63, LogLevel.Information,
            "Sync {SyncId}: manifest {SchemaVersion} (dbt {DbtVersion}): {Models} models, {Seeds} seeds, {Sources} sources; {Bytes} bytes read with a buffer of {BufferBytes} bytes at most")]
        public static partial void Read(ILogger logger, Guid syncId, string schemaVersion, string dbtVersion, int models, int seeds, int sources,
            long bytes, int bufferBytes);
    }
}
