using System.Text.Json;
using Npgsql;

namespace Dot.Api.Connectors.Tests;

/// <summary>How a postgres connection's settings and secrets become a connection string (no server needed).</summary>
[Trait("Store", "any")]
public sealed class PostgresTargetTests
{
    private static SyncJob Job(object settings, Dictionary<string, string>? secrets = null) => new(
        Guid.CreateVersion7(), "postgres", "warehouse", "Warehouse",
        JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(JsonSerializer.Serialize(settings))!,
        new ConnectionSecretValues(secrets ?? []));

    [Fact]
    public void SettingsAndPasswordMakeABoundedUnpooledConnection()
    {
        var target = PostgresTarget.From(Job(new { host = "db.internal", port = "6432", database = "analytics", username = "dot", ssl_mode = "verify-full" },
            new() { ["password"] = "s3cret-pw" }));
        var built = new NpgsqlConnectionStringBuilder(target.ConnectionString);

        Assert.Equal(("db.internal", 6432, "analytics", "dot", "s3cret-pw"), (built.Host, built.Port, built.Database, built.Username, built.Password));
        Assert.Equal(SslMode.VerifyFull, built.SslMode);
        Assert.Equal((10, 30), (built.Timeout, built.CommandTimeout));
        Assert.False(built.Pooling);
        Assert.Equal("db.internal:6432", target.Endpoint);
        Assert.DoesNotContain("s3cret-pw", target.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsOverrideTheConnectionStringSecret()
    {
        var target = PostgresTarget.From(Job(new { database = "other", command_timeout_seconds = 5 },
            new() { ["connection_string"] = "Host=db.internal;Port=5433;Database=analytics;Username=dot;Password=pw-1" }));
        var built = new NpgsqlConnectionStringBuilder(target.ConnectionString);

        Assert.Equal(("db.internal", 5433, "other", "dot", "pw-1", 5), (built.Host, built.Port, built.Database, built.Username, built.Password, built.CommandTimeout));
    }

    [Theory]
    [InlineData("""{"port": 5432, "user": "dot"}""", "the postgres connection has no host: set the host setting (or a connection_string secret).")]
    [InlineData("""{"host": "db"}""", "the postgres connection has no user: set the user setting (or a connection_string secret).")]
    [InlineData("""{"host": "db", "user": "dot", "port": 70000}""", "the postgres setting port must be a whole number from 1 to 65535.")]
    [InlineData("""{"host": "db", "user": "dot", "ssl_mode": "sometimes"}""", "the postgres setting ssl_mode must be one of disable, allow, prefer, require, verify-ca, verify-full.")]
    [InlineData("""{"host": "db", "user": "dot", "connect_timeout_seconds": "soon"}""", "the postgres setting connect_timeout_seconds must be a whole number from 1 to 1024.")]
    public void SettingsThatCannotWorkAreNamed(string settings, string error)
    {
        var ex = Assert.Throws<SyncFailedException>(() => PostgresTarget.From(Job(JsonDocument.Parse(settings).RootElement)));

        Assert.Equal(error, ex.Message);
    }

    [Fact]
    public void UnreadableConnectionStringIsRefusedWithoutQuotingIt()
    {
        var ex = Assert.Throws<SyncFailedException>(() => PostgresTarget.From(Job(new { },
            new() { ["connection_string"] = "postgres://dot:pw-Secret-42@db/analytics" })));

        Assert.StartsWith("the connection_string secret is not a valid PostgreSQL connection string", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw-Secret-42", ex.ToString(), StringComparison.Ordinal);
    }
}
