using System.Net;
using System.Net.Sockets;
using Microsoft.Data.SqlClient;

namespace Dot.Api.Connectors;

/// <summary>
/// Where an <c>mssql</c> connection points, from its settings (<c>host</c>, <c>port</c>, <c>database</c>, <c>user</c>
/// or <c>username</c>, <c>encrypt</c>, <c>trust_server_certificate</c>, <c>connect_timeout_seconds</c>,
/// <c>command_timeout_seconds</c>) and its secret <c>password</c> (SQL Server authentication). The connection string is
/// built with <see cref="SqlConnectionStringBuilder"/> for one checked address at a time (<see cref="ConnectionString"/>);
/// no user value is pasted into it as text.
/// </summary>
internal sealed record MssqlTarget(
    string Host,
    int Port,
    string? Database,
    string User,
    string Password,
    SqlConnectionEncryptOption Encrypt,
    bool TrustServerCertificate,
    int ConnectTimeoutSeconds,
    int CommandTimeoutSeconds)
{
    public const int DefaultPort = 1433;
    public const int DefaultConnectTimeoutSeconds = 15;
    public const int DefaultCommandTimeoutSeconds = 30;

    private static readonly Dictionary<string, SqlConnectionEncryptOption> EncryptOptions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mandatory"] = SqlConnectionEncryptOption.Mandatory,
        ["optional"] = SqlConnectionEncryptOption.Optional,
        ["strict"] = SqlConnectionEncryptOption.Strict,
    };

    /// <summary>host:port, an IPv6 address in brackets.</summary>
    public string Endpoint => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    /// <summary>The host when it is a name (the certificate is checked against it), null when it is an address.</summary>
    public string? HostName => IPAddress.TryParse(Host, out _) ? null : Host;

    public static MssqlTarget From(SyncJob job)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        var host = settings.Text("host")?.Trim('[', ']')
            ?? throw new SyncFailedException("the mssql connection has no host: set the host setting.");
        if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns)
        {
            throw new SyncFailedException("the mssql setting host must be a host name or an IP address; for a named instance "
                + "(host\\instance) give its TCP port in the port setting instead (this connector does not ask SQL Server Browser).");
        }

        var user = settings.Text("user", "username") ?? throw new SyncFailedException("the mssql connection has no user: set the user setting.");
        if (!job.Secrets.TryGetValue("password", out var password) || password.Length == 0)
        {
            throw new SyncFailedException("the mssql connection has no password: set the secret password (SQL Server authentication).");
        }

        var encrypt = SqlConnectionEncryptOption.Mandatory;
        if (settings.Text("encrypt") is { } encryptText && !EncryptOptions.TryGetValue(encryptText, out encrypt!))
        {
            throw new SyncFailedException($"the mssql setting encrypt must be one of {string.Join(", ", EncryptOptions.Keys)}.");
        }

        var trust = settings.Text("trust_server_certificate") switch
        {
            null => false,
            var t when bool.TryParse(t, out var value) => value,
            _ => throw new SyncFailedException("the mssql setting trust_server_certificate must be true or false."),
        };

        return new MssqlTarget(host, settings.Integer("port", DefaultPort, 1, 65535), settings.Text("database"), user, password, encrypt, trust,
            settings.Integer("connect_timeout_seconds", DefaultConnectTimeoutSeconds, 1, 1024),
            settings.Integer("command_timeout_seconds", DefaultCommandTimeoutSeconds, 1, 3600));
    }

    /// <summary>
    /// The connection string for one address <see cref="ConnectorNetwork"/> checked: SqlClient connects there over TCP
    /// and resolves nothing, while the server's certificate is checked against the host name
    /// (<see cref="SqlConnectionStringBuilder.HostNameInCertificate"/>, used in the mandatory and strict modes).
    /// </summary>
    public string ConnectionString(IPAddress address)
    {
        var builder = new SqlConnectionStringBuilder
        {
            DataSource = address.AddressFamily == AddressFamily.InterNetworkV6 ? $"tcp:[{address}],{Port}" : $"tcp:{address},{Port}",
            UserID = User,
            Password = Password,
            Encrypt = Encrypt,
            TrustServerCertificate = TrustServerCertificate,
            ConnectTimeout = ConnectTimeoutSeconds,
            CommandTimeout = CommandTimeoutSeconds,
            ApplicationName = "dot-sync",

            // One sync, one physical connection: no pool keeps it (or a refused password) around afterwards.
            Pooling = false,

            // A broken connection fails the run rather than being re-opened out of sight; nothing resolves a name.
            ConnectRetryCount = 0,
            MultiSubnetFailover = false,
        };
        if (Database is not null)
        {
            builder.InitialCatalog = Database;
        }

        if (HostName is not null)
        {
            builder.HostNameInCertificate = HostName;
        }

        return builder.ConnectionString;
    }

    /// <summary>Prints without the password.</summary>
    public override string ToString() => $"mssql {Endpoint}/{Database} as {User}";
}
