using System.Net;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Google.Apis.Auth.OAuth2.Responses;
using Google.Apis.Http;
using Google.Apis.Util;

namespace Dot.Api.Connectors;

/// <summary>
/// A Google service-account JSON key (the secret <c>service_account_key</c>) turned into an OAuth access token with
/// Google.Apis.Auth: the OAuth 2.0 JWT-bearer grant (an RS256 assertion signed with the key's <c>private_key</c>,
/// <c>aud</c> = https://oauth2.googleapis.com/token as Google documents it, scope <see cref="Scope"/>) posted to <c>token_uri</c>. The library's HTTP goes
/// through the shared connector handler (<see cref="ConnectorNetwork"/>-checked connects, no proxy), with its own
/// redirect following off; its clock is the server's <see cref="TimeProvider"/>.
/// </summary>
internal sealed class BigQueryServiceAccount
{
    public const string Scope = "https://www.googleapis.com/auth/bigquery.readonly";
    public const string DefaultTokenUri = "https://oauth2.googleapis.com/token";

    private readonly ServiceAccountCredential _credential;

    private BigQueryServiceAccount(ServiceAccountCredential credential, string clientEmail, Uri tokenUri, string? projectId)
    {
        _credential = credential;
        ClientEmail = clientEmail;
        TokenUri = tokenUri;
        ProjectId = projectId;
    }

    public string ClientEmail { get; }

    public Uri TokenUri { get; }

    /// <summary>The key's <c>project_id</c>: the project read when the setting project is not given.</summary>
    public string? ProjectId { get; }

    /// <summary>
    /// Reads the key. Its <c>token_uri</c> is where the signed assertion goes, so it is checked like a URL setting:
    /// https, or http only to a loopback host (a local emulator or test), and never with user info or a query.
    /// Failures name the secret and the field, never a value of the key.
    /// </summary>
    public static BigQueryServiceAccount From(string json, IHttpMessageHandlerFactory handlers, TimeProvider time)
    {
        string? type, clientEmail, privateKey, keyId, tokenUri, projectId;
        try
        {
            using var key = JsonDocument.Parse(json);
            var root = key.RootElement;
            type = ConnectorHttp.String(root, "type");
            clientEmail = ConnectorHttp.String(root, "client_email");
            privateKey = ConnectorHttp.String(root, "private_key");
            keyId = ConnectorHttp.String(root, "private_key_id");
            tokenUri = ConnectorHttp.String(root, "token_uri");
            projectId = ConnectorHttp.String(root, "project_id");
        }
        catch (JsonException ex)
        {
            throw new SyncFailedException("the bigquery secret service_account_key is not JSON: give the whole JSON key file of the service account.", ex);
        }

        if (type != "service_account")
        {
            throw new SyncFailedException("the bigquery secret service_account_key is not a service-account key (its type is not service_account).");
        }

        if (string.IsNullOrWhiteSpace(clientEmail) || string.IsNullOrWhiteSpace(privateKey))
        {
            throw new SyncFailedException("the bigquery secret service_account_key has no client_email or private_key.");
        }

        var tokenUrl = TokenUrl(tokenUri ?? DefaultTokenUri);
        var initializer = new ServiceAccountCredential.Initializer(clientEmail, tokenUrl.ToString())
        {
            Scopes = [Scope],
            KeyId = keyId,
            HttpClientFactory = new ConnectorHttpClientFactory(handlers),
            Clock = new Clock(time),
        };
        try
        {
            initializer = initializer.FromPrivateKey(privateKey);
        }
        catch (Exception ex) when (ex is System.Security.Cryptography.CryptographicException or ArgumentException or FormatException)
        {
            throw new SyncFailedException("the private_key of the bigquery secret service_account_key is not a PEM RSA private key.", ex);
        }

        return new BigQueryServiceAccount(new ServiceAccountCredential(initializer), clientEmail, tokenUrl, projectId);
    }

    /// <summary>An access token for the BigQuery API; failures name the token endpoint and the secret.</summary>
    public async Task<string> AccessTokenAsync(CancellationToken ct)
    {
        var where = DbtConnector.Describe(TokenUri);
        try
        {
            return await _credential.GetAccessTokenForRequestAsync(cancellationToken: ct);
        }
        catch (TokenResponseException ex)
        {
            var status = ex.StatusCode is { } code ? (int)code : 0;
            if (status is >= 300 and < 400)
            {
                throw new SyncFailedException($"the token endpoint {where} redirects (answered {status}): this server does not follow redirects; "
                    + "check the token_uri of the secret service_account_key", ex);
            }

            var said = ConnectorHttp.Bounded(ex.Error?.Error) is { } error
                ? $" ({error}{(ConnectorHttp.Bounded(ex.Error?.ErrorDescription) is { } d ? $": {d}" : "")})"
                : "";
            throw new SyncFailedException($"the token endpoint {where} refused the service account {ClientEmail}"
                + $"{(status > 0 ? $" (answered {status})" : "")}{said}: check the secret service_account_key (a current key of a service account that exists)", ex);
        }
        catch (HttpRequestException ex) when (ExceptionChain.Find<ConnectorTargetRefusedException>(ex) is { } refused)
        {
            throw new SyncFailedException($"refused to connect to the token endpoint {where}: {refused.Message}", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SyncFailedException($"could not reach the token endpoint {where}: {ConnectorHttp.Cause(ex)}", ex);
        }
    }

    private static Uri TokenUrl(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || !string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Query)
            || !(url.Scheme == Uri.UriSchemeHttps || (url.Scheme == Uri.UriSchemeHttp && IsLoopback(url))))
        {
            throw new SyncFailedException("the token_uri of the bigquery secret service_account_key must be an https URL (http only to a loopback address), "
                + "without user info or a query, such as " + DefaultTokenUri);
        }

        return url;
    }

    private static bool IsLoopback(Uri url)
        => url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>Google.Apis' HTTP through the shared connector handler; redirects are not followed.</summary>
    private sealed class ConnectorHttpClientFactory(IHttpMessageHandlerFactory handlers) : Google.Apis.Http.IHttpClientFactory
    {
        public ConfigurableHttpClient CreateHttpClient(CreateHttpClientArgs args)
        {
            // The handler is the named client's pipeline, owned by the handler factory: disposing it here does nothing.
            var handler = new ConfigurableMessageHandler(handlers.CreateHandler(ConnectorsExtensions.HttpClientName))
            {
                FollowRedirect = false,
                ApplicationName = args.ApplicationName,
            };
            var client = new ConfigurableHttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            foreach (var initializer in args.Initializers)
            {
                initializer.Initialize(client);
            }

            return client;
        }
    }

    private sealed class Clock(TimeProvider time) : IClock
    {
        public DateTime Now => time.GetLocalNow().DateTime;

        public DateTime UtcNow => time.GetUtcNow().UtcDateTime;
    }
}
