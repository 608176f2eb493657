using Npgsql;

namespace Dot.Api.Connectors;

/// <summary>
/// A server that speaks PostgreSQL's protocol, as Npgsql reaches it: its connection type, the name errors call it by,
/// and the defaults that differ.
/// </summary>
/// <param name="LoadTypes">
/// Whether Npgsql loads the server's types when it connects. Not on Redshift (what Npgsql's ServerCompatibilityMode
/// NoTypeLoading did, now <see cref="NpgsqlTypeLoadingOptionsBuilder.EnableTypeLoading"/>): the loading queries
/// catalogue tables Redshift lacks (pg_enum, pg_range…); the catalogue queries return only built-in types (name, text,
/// varchar, int2, int4, bool), which Npgsql knows without loading.
/// </param>
internal sealed record PostgresFlavor(string Type, string Product, int DefaultPort, SslMode DefaultSslMode, bool LoadTypes)
{
    public static readonly PostgresFlavor Postgres = new("postgres", "PostgreSQL", NpgsqlConnection.DefaultPort, SslMode.Prefer, LoadTypes: true);

    /// <summary>Amazon Redshift: port 5439 and TLS required by default, as Redshift's own drivers connect.</summary>
    public static readonly PostgresFlavor Redshift = new("redshift", "Redshift", 5439, SslMode.Require, LoadTypes: false);
}

/// <summary>
/// Where a <c>postgres</c> or <c>redshift</c> connection points, from its settings (<c>host</c>, <c>port</c>,
/// <c>database</c>, <c>user</c> or <c>username</c>, <c>ssl_mode</c>, <c>connect_timeout_seconds</c>,
/// <c>command_timeout_seconds</c>) and its secret <c>password</c>, or from a secret <c>connection_string</c> that the
/// settings, where given, override.
/// </summary>
internal sealed record PostgresTarget(
    PostgresFlavor Flavor,
    string ConnectionString,
    string Endpoint,
    string? Database,
    string? User,
    int ConnectTimeoutSeconds,
    int CommandTimeoutSeconds,
    string Host,
    int Port)
{
    public const int DefaultConnectTimeoutSeconds = 10;
    public const int DefaultCommandTimeoutSeconds = 30;

    private static readonly Dictionary<string, SslMode> SslModes = new(StringComparer.OrdinalIgnoreCase)
    {
        ["disable"] = SslMode.Disable,
        ["allow"] = SslMode.Allow,
        ["prefer"] = SslMode.Prefer,
        ["require"] = SslMode.Require,
        ["verify-ca"] = SslMode.VerifyCA,
        ["verify-full"] = SslMode.VerifyFull,
    };

    public static PostgresTarget From(SyncJob job) => From(job, PostgresFlavor.Postgres);

    public static PostgresTarget From(SyncJob job, PostgresFlavor flavor)
    {
        var settings = new ConnectorSettings(job.ConnectionType, job.Settings);
        NpgsqlConnectionStringBuilder builder;
        if (job.Secrets.TryGetValue("connection_string", out var connectionString))
        {
            try
            {
                builder = new NpgsqlConnectionStringBuilder(connectionString);
                if (!Names(connectionString, "sslmode"))
                {
                    builder.SslMode = flavor.DefaultSslMode;
                }

                if (!Names(connectionString, "port"))
                {
                    builder.Port = flavor.DefaultPort;
                }
            }
            catch (ArgumentException)
            {
                // The exception may quote the string: say what is wrong without it.
                throw new SyncFailedException(NotAConnectionString(flavor) + ".");
            }
        }
        else
        {
            builder = new NpgsqlConnectionStringBuilder { SslMode = flavor.DefaultSslMode, Port = flavor.DefaultPort };
        }

        builder.Host = settings.Text("host") ?? builder.Host;
        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new SyncFailedException(NoHost(flavor));
        }

        if (settings.Has("port") || builder.Port == 0)
        {
            builder.Port = settings.Integer("port", flavor.DefaultPort, 1, 65535);
        }

        builder.Database = settings.Text("database", "dbname") ?? builder.Database;
        builder.Username = settings.Text("user", "username") ?? builder.Username;
        if (string.IsNullOrEmpty(builder.Username))
        {
            throw new SyncFailedException($"the {flavor.Type} connection has no user: set the user setting (or a connection_string secret).");
        }

        if (job.Secrets.TryGetValue("password", out var password))
        {
            builder.Password = password;
        }

        if (settings.Text("ssl_mode", "sslmode") is { } sslMode)
        {
            builder.SslMode = SslModes.TryGetValue(sslMode, out var mode)
                ? mode
                : throw new SyncFailedException($"the {flavor.Type} setting ssl_mode must be one of {string.Join(", ", SslModes.Keys)}.");
        }

        builder.Timeout = settings.Integer("connect_timeout_seconds", DefaultConnectTimeoutSeconds, 1, 1024);
        builder.CommandTimeout = settings.Integer("command_timeout_seconds", DefaultCommandTimeoutSeconds, 1, 3600);
        builder.ApplicationName = "dot-sync";

        // One sync, one physical connection: no pool keeps it (or a refused password) around afterwards.
        builder.Pooling = false;

        // Error details can quote row values; the run's error needs the message only.
        builder.IncludeErrorDetail = false;

        var endpoint = builder.Host.Contains(',', StringComparison.Ordinal) ? builder.Host : $"{builder.Host}:{builder.Port}";
        return new PostgresTarget(flavor, builder.ConnectionString, endpoint, builder.Database, builder.Username, builder.Timeout, builder.CommandTimeout,
            builder.Host, builder.Port);
    }

    /// <summary>
    /// The hosts of <see cref="Host"/> (one, or a comma-separated list), each with its port: <c>db</c>, <c>db:6432</c>,
    /// <c>[::1]:5432</c>, a bare IPv6 address, or a Unix socket directory (<c>/var/run/postgresql</c>).
    /// </summary>
    public IReadOnlyList<(string Host, int Port)> Hosts()
    {
        var hosts = new List<(string, int)>();
        foreach (var part in Host.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var host = part;
            var port = Port;
            string? portText = null;
            if (part.StartsWith('['))
            {
                var close = part.IndexOf(']', StringComparison.Ordinal);
                host = close > 0 ? part[1..close] : part;
                portText = close > 0 && part.Length > close + 2 && part[close + 1] == ':' ? part[(close + 2)..] : null;
            }
            else if (part.Count(c => c == ':') == 1 && !part.StartsWith('/'))
            {
                var colon = part.IndexOf(':', StringComparison.Ordinal);
                (host, portText) = (part[..colon], part[(colon + 1)..]);
            }

            if (portText is not null)
            {
                port = int.TryParse(portText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p)
                    && p is > 0 and <= 65535
                    ? p
                    : throw new SyncFailedException($"the {Flavor.Type} host names a port that is not a number from 1 to 65535.");
            }

            hosts.Add((host, port));
        }

        return hosts;
    }

    /// <summary>Whether the connection string gives <paramref name="key"/> (spaces and case aside: SSL Mode, SslMode, sslmode).</summary>
    private static bool Names(string connectionString, string key)
        => new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Any(k => string.Equals(k.Replace(" ", "", StringComparison.Ordinal), key, StringComparison.OrdinalIgnoreCase));

    /// <summary>"the postgres connection has no host: …".</summary>
    public static string NoHost(PostgresFlavor flavor) => $"the {flavor.Type} connection has no host: set the host setting (or a connection_string secret).";

    /// <summary>Says what is wrong without quoting the string, which holds the password.</summary>
    public static string NotAConnectionString(PostgresFlavor flavor)
        => $"the connection_string secret is not a valid {flavor.Product} connection string (such as Host=db;Username=dot;Database=analytics)";

    /// <summary>Prints without the connection string, which holds the password.</summary>
    public override string ToString() => $"{Flavor.Type} {Endpoint}/{Database} as {User}";
}
