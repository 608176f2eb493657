using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dot.Api.Access;
using Dot.Api.Cli;
using Dot.Api.Connections;
using Dot.Api.Connectors.Tests.Infrastructure;
using Dot.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>Connections (API.md §4, §6) through HTTP and the CLI, with tokens the product minted.</summary>
public sealed class ConnectionsTests
{
    private const string Secret = "Sup3r-s3cret-P4ssw0rd-7f3a9c";

    private static object Warehouse(string id = "my-bg-id", string type = "postgres") => new
    {
        type,
        id,
        name = "Warehouse",
        settings = new Dictionary<string, object> { ["host"] = "db.example.com", ["port"] = 5432, ["ssl"] = true },
        secrets = new Dictionary<string, string> { ["password"] = Secret },
    };

    [Fact]
    public async Task AdminCreatesListsReadsAndDeletesAConnection()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var created = await admin.PostAsJsonAsync("/api/connections", Warehouse());

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/connections/postgres/my-bg-id", created.Headers.Location?.OriginalString);
        var body = await created.JsonAsync();
        Assert.Equal("postgres", body.GetProperty("type").GetString());
        Assert.Equal("my-bg-id", body.GetProperty("id").GetString());
        Assert.Equal("Warehouse", body.GetProperty("name").GetString());
        Assert.Equal("db.example.com", body.GetProperty("settings").GetProperty("host").GetString());
        Assert.Equal(5432, body.GetProperty("settings").GetProperty("port").GetInt32());
        Assert.True(body.GetProperty("settings").GetProperty("ssl").GetBoolean());
        Assert.Equal(["password"], body.GetProperty("secret_names").EnumerateArray().Select(e => e.GetString()));
        Assert.False(body.TryGetProperty("secrets", out _));
        Assert.Equal("2026-01-15T12:00:00Z", body.GetProperty("created_at").GetString());

        var list = await (await admin.GetAsync("/api/connections")).JsonAsync();
        var item = Assert.Single(list.GetProperty("items").EnumerateArray());
        Assert.Equal("my-bg-id", item.GetProperty("id").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, list.GetProperty("next_cursor").ValueKind);

        var one = await admin.GetAsync("/api/connections/postgres/my-bg-id");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/api/connections/postgres/my-bg-id")).StatusCode);
        var again = await admin.DeleteAsync("/api/connections/postgres/my-bg-id");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await (await admin.GetAsync("/api/connections")).JsonAsync()).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task SameIdUnderAnotherTypeIsAnotherConnection()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/connections", Warehouse("shared", "postgres"))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/connections", Warehouse("shared", "snowflake"))).StatusCode);
        var duplicate = await admin.PostAsJsonAsync("/api/connections", Warehouse("shared", "postgres"));

        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal("application/problem+json", duplicate.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ListIsPagedWithACursorAndFilteredByType()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        foreach (var (type, id) in new[] { ("postgres", "b"), ("dbt", "z"), ("postgres", "a") })
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/connections", new { type, id })).StatusCode);
        }

        var first = await (await admin.GetAsync("/api/connections?limit=2")).JsonAsync();
        Assert.Equal(["dbt/z", "postgres/a"], Keys(first));
        var cursor = first.GetProperty("next_cursor").GetString();
        Assert.False(string.IsNullOrEmpty(cursor));
        var second = await (await admin.GetAsync($"/api/connections?limit=2&cursor={cursor}")).JsonAsync();
        Assert.Equal(["postgres/b"], Keys(second));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, second.GetProperty("next_cursor").ValueKind);

        var postgres = await (await admin.GetAsync("/api/connections?type=postgres")).JsonAsync();
        Assert.Equal(["postgres/a", "postgres/b"], Keys(postgres));
        Assert.Equal("b", postgres.GetProperty("items")[1].GetProperty("name").GetString()); // name defaults to the id

        await AssertInvalidAsync(await admin.GetAsync("/api/connections?cursor=nonsense"), "cursor");
        await AssertInvalidAsync(await admin.GetAsync("/api/connections?type=oracle"), "type");

        static List<string> Keys(System.Text.Json.JsonElement page) => page.GetProperty("items").EnumerateArray()
            .Select(i => $"{i.GetProperty("type").GetString()}/{i.GetProperty("id").GetString()}").ToList();
    }

    [Theory]
    [InlineData(Role.Modeler)]
    [InlineData(Role.User)]
    public async Task OnlyAdminsManageConnections(Role role)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.PostAsJsonAsync("/api/connections", Warehouse());
        var (_, _, caller) = await factory.CreateCallerAsync("someone@example.com", role);

        Assert.Equal(HttpStatusCode.Forbidden, (await caller.GetAsync("/api/connections")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await caller.GetAsync("/api/connections/postgres/my-bg-id")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await caller.PostAsJsonAsync("/api/connections", Warehouse("other"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await caller.DeleteAsync("/api/connections/postgres/my-bg-id")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateClient().GetAsync("/api/connections")).StatusCode);
    }

    [Theory]
    [InlineData("oracle")]
    [InlineData("Postgres")]
    [InlineData("")]
    public async Task UnknownTypeIsRefusedOnType(string type)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections", new { type, id = "ok" }), "type");
    }

    [Theory]
    [InlineData("My-Id")]
    [InlineData("has space")]
    [InlineData("dot.ted")]
    [InlineData("slash/id")]
    [InlineData("é")]
    [InlineData("")]
    [InlineData("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")] // 65
    public async Task BadSlugIsRefusedOnId(string id)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections", new { type = "postgres", id }), "id");
    }

    [Fact]
    public async Task LongestSlugIsAccepted()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsJsonAsync("/api/connections", new { type = "dbt", id = new string('a', 63) + "_" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task SettingsAndSecretsAreCheckedFieldByField()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "x", settings = new { nested = new { a = 1 } } }), "settings.nested");
        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "x", settings = new { list = new List<int> { 1 } } }), "settings.list");
        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "x", settings = new List<string> { "a" } }), "settings");
        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "x", secrets = new { password = 5 } }), "secrets.password");
        await AssertInvalidAsync(await admin.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "x", settings = new { host = "h" }, secrets = new { host = "h" } }), "secrets.host");

        // A secret sent as a setting would be stored in the clear and returned: refused, pointing at secrets.
        var leaked = await admin.PostAsJsonAsync("/api/connections",
            new { type = "postgres", id = "x", settings = new { db_password = Secret } });
        await AssertInvalidAsync(leaked, "settings.db_password");
        Assert.DoesNotContain(Secret, await leaked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// A URL setting of any connector with user info or a query string (a signed URL) is refused, naming the setting and
    /// pointing at the secrets: settings are stored in the clear and returned.
    /// </summary>
    [Theory]
    [InlineData("dbt", "manifest_url", "http://dot:Pw-Marker-71c2@artifacts.internal/manifest.json")]
    [InlineData("dbt", "manifest_url", "https://bucket.s3.amazonaws.com/manifest.json?X-Amz-Signature=Sig-Marker-71c2")]
    [InlineData("dbt", "cloud_url", "https://user:Pw-Marker-71c2@cloud.getdbt.com")]
    [InlineData("dbt", "cloud_url", "cloud.getdbt.com?sig=Sig-Marker-71c2")]
    [InlineData("looker", "base_url", "https://Pw-Marker-71c2@looker.example.com/")]
    [InlineData("snowflake", "endpoint", "https://svc:Pw-Marker-71c2@xy12345.snowflakecomputing.com")]
    public async Task UrlSettingWithUserInfoOrQueryIsRefusedNamingTheSetting(string type, string setting, string value)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsJsonAsync("/api/connections",
            new { type, id = "x", settings = new Dictionary<string, string> { [setting] = value } });

        await AssertInvalidAsync(response, $"settings.{setting}");
        var body = await response.Content.ReadAsStringAsync();
        var message = (await response.JsonAsync()).GetProperty("errors").GetProperty($"settings.{setting}")[0].GetString();
        Assert.Contains("secrets", message, StringComparison.Ordinal);
        Assert.DoesNotContain("Marker-71c2", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/api/connections/{type}/x")).StatusCode);
    }

    [Fact]
    public async Task UrlSettingWithoutCredentialsIsAccepted()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsJsonAsync("/api/connections", new
        {
            type = "dbt",
            id = "x",
            settings = new { manifest_url = "https://artifacts.internal:8443/dbt/manifest.json#latest", cloud_url = "https://ab123.eu1.dbt.com" },
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>A connector's secret given as a setting, or its URL with a credential in the query, is refused, naming the setting only.</summary>
    [Theory]
    [InlineData("databricks", "client_secret", "dose-Setting-Marker")]
    [InlineData("databricks", "token", "dapi-Setting-Marker")]
    [InlineData("databricks", "host", "https://dbc-1.cloud.databricks.com/?o=Setting-Marker")]
    [InlineData("looker", "client_secret", "Setting-Marker-7d")]
    public async Task ConnectorSecretIsRefusedAsASetting(string type, string name, string value)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var settings = new Dictionary<string, string> { [name] = value };
        if (type == "looker")
        {
            settings["base_url"] = "https://company.looker.com";
            settings["client_id"] = "Kq7dJ3mXyZp2Vb9Rt4Lw";
        }

        var response = await admin.PostAsJsonAsync("/api/connections", new { type, id = "x", settings });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains($"settings.{name}", body, StringComparison.Ordinal);
        Assert.DoesNotContain("Setting-Marker", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// The connectors' settings rules run at creation (here the dbt connector's, on manifest_path, which
    /// Dot:Connectors:AllowManifestPath turns on): a 422 on the field, naming the setting; allowed, the connection is
    /// created and syncs. The rule's other cases: tests/Dot.Api.Connectors.Tests, DbtConnectorTests.
    /// </summary>
    [Fact]
    public async Task ManifestPathIsRefusedAtCreationUnlessTheServerAllowsIt()
    {
        var path = ManifestFacts.FixturePath("jaffle_shop-v9.manifest.json");
        await using (var factory = new DotApiFactory())
        {
            var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

            var refused = await admin.PostAsJsonAsync("/api/connections", new { type = "dbt", id = "local", settings = new { manifest_path = path } });

            await AssertInvalidAsync(refused, "settings.manifest_path");
            var message = (await refused.JsonAsync()).GetProperty("errors").GetProperty("settings.manifest_path")[0].GetString();
            Assert.Contains("Dot:Connectors:AllowManifestPath", message, StringComparison.Ordinal);
        }

        await using (var factory = new DotApiFactory().WithSetting("Dot:Connectors:AllowManifestPath", "true"))
        {
            var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
            await admin.CreateConnectionAsync("dbt", "local", new { manifest_path = path });

            await admin.SyncAsync("dbt", "local");
        }
    }

    [Fact]
    public async Task BodyThatIsNotJsonIsBadRequest()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsync("/api/connections", new StringContent("{not json", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SecretsNeverLeaveTheServerAndAreEncryptedAtRest()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var responses = new List<HttpResponseMessage>
        {
            await admin.PostAsJsonAsync("/api/connections", Warehouse()),
            await admin.GetAsync("/api/connections"),
            await admin.GetAsync("/api/connections/postgres/my-bg-id"),
            await admin.PostAsJsonAsync("/api/connections", Warehouse()), // 409
        };
        foreach (var response in responses)
        {
            Assert.DoesNotContain(Secret, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The service connectors will use decrypts them.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var secrets = await scope.ServiceProvider.GetRequiredService<ConnectionSecrets>().ReadAsync("postgres", "my-bg-id", default);
            Assert.NotNull(secrets);
            Assert.Equal(Secret, secrets["password"]);
            Assert.DoesNotContain(Secret, secrets.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(Secret, System.Text.Json.JsonSerializer.Serialize(secrets), StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Secret, factory.Logs.AllText, StringComparison.Ordinal);
        await AssertNotStoredAsync(factory, Secret, "my-bg-id");
    }

    [Fact]
    public async Task CiphertextCopiedToAnotherConnectionDoesNotDecrypt()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        await admin.PostAsJsonAsync("/api/connections", Warehouse("one"));
        await admin.PostAsJsonAsync("/api/connections", new { type = "postgres", id = "two" });

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Dot.Api.Data.DotDbContext>();
        var one = db.Connections.Single(c => c.Id == "one");
        var two = db.Connections.Single(c => c.Id == "two");
        two.Secrets = one.Secrets;
        await db.SaveChangesAsync();

        var secrets = scope.ServiceProvider.GetRequiredService<ConnectionSecrets>();
        await Assert.ThrowsAnyAsync<System.Security.Cryptography.CryptographicException>(() => secrets.ReadAsync("postgres", "two", default));
    }

    [Fact]
    public async Task CliAddsAConnectionAndPrintsItsKey()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var (code, stdout, stderr) = await RunCliAsync(factory, "connections", "add", "--type", "snowflake", "--id", "analytics",
            "--name", "Analytics", "--settings-json", """{"account": "xy12345", "warehouse": "COMPUTE_WH", "port": 443}""",
            "--secrets-json", $$"""{"password": "{{Secret}}"}""");

        Assert.True(code == 0, stderr);
        Assert.Equal("snowflake/analytics" + Environment.NewLine, stdout);
        Assert.Equal(string.Empty, stderr);
        var item = (await (await admin.GetAsync("/api/connections/snowflake/analytics")).JsonAsync());
        Assert.Equal("Analytics", item.GetProperty("name").GetString());
        Assert.Equal("xy12345", item.GetProperty("settings").GetProperty("account").GetString());
        Assert.Equal(["password"], item.GetProperty("secret_names").EnumerateArray().Select(e => e.GetString()));
        await AssertNotStoredAsync(factory, Secret, "analytics");
    }

    [Fact]
    public async Task CliReadsSecretsFromStandardInput()
    {
        await using var factory = new DotApiFactory();

        var (code, stdout, _) = await RunCliWithStdinAsync(factory, $$"""{"token": "{{Secret}}"}""",
            "connections", "add", "--type", "dbt", "--id", "cloud", "--secrets-json", "-");

        Assert.Equal(0, code);
        Assert.Equal("dbt/cloud", stdout.Trim());
        await using var scope = factory.Services.CreateAsyncScope();
        var secrets = await scope.ServiceProvider.GetRequiredService<ConnectionSecrets>().ReadAsync("dbt", "cloud", default);
        Assert.Equal(Secret, secrets!["token"]);
    }

    [Fact]
    public async Task CliRefusesADuplicateWithExitCodeOne()
    {
        await using var factory = new DotApiFactory();
        Assert.Equal(0, (await RunCliAsync(factory, "connections", "add", "--type", "postgres", "--id", "dup")).Code);

        var (code, stdout, stderr) = await RunCliAsync(factory, "connections", "add", "--type", "postgres", "--id", "dup");

        Assert.Equal(1, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.Contains("already exists", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--type", "oracle", "--id", "x")]
    [InlineData("--type", "postgres", "--id", "Bad Id")]
    [InlineData("--type", "postgres")]
    [InlineData("--id", "x")]
    [InlineData("--type", "postgres", "--id", "x", "--settings-json", "{nope")]
    [InlineData("--type", "postgres", "--id", "x", "--secrets-json", "{\"password\": 1}")]
    [InlineData("--type", "postgres", "--id", "x", "--colour", "blue")]
    public async Task CliBadArgumentsExitTwoWithOneLine(params string[] options)
    {
        await using var factory = new DotApiFactory();

        var (code, stdout, stderr) = await RunCliAsync(factory, ["connections", "add", .. options]);

        Assert.Equal(2, code);
        Assert.Equal(string.Empty, stdout);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
    }

    internal static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"no error on '{field}' in {errors}");
    }

    /// <summary>The SQLite file and its write-ahead log, read as bytes after the pools let go of them.</summary>
    /// <summary>
    /// <paramref name="text"/> is nowhere in what the store keeps (<see cref="StoredData"/>: SQLite's files; every
    /// column of PostgreSQL's tables and a pg_dump), while <paramref name="stored"/>, a value saved beside it, is.
    /// </summary>
    internal static async Task AssertNotStoredAsync(DotApiFactory factory, string text, string stored)
    {
        var data = await StoredData.ReadAsync(factory);
        Assert.Empty(data.Find(text));
        Assert.NotEmpty(data.Find(stored)); // so the scan read the rows
    }

    /// <summary>Runs an admin command in-process as <c>dot-api</c> would: parse (exit 2 on bad arguments), then run.</summary>
    internal static Task<(int Code, string Stdout, string Stderr)> RunCliAsync(DotApiFactory factory, params string[] args)
        => RunCliWithStdinAsync(factory, string.Empty, args);

    internal static async Task<(int Code, string Stdout, string Stderr)> RunCliWithStdinAsync(DotApiFactory factory, string stdin,
        params string[] args)
    {
        var services = factory.Services; // builds the host, which registers the features' commands
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var command = CliHost.Parse(services, args, stdout, stderr);
        if (command.ExitCode is { } exit)
        {
            return (exit, stdout.ToString(), stderr.ToString());
        }

        var code = await CliHost.RunAsync(command, services, stdout, stderr, new StringReader(stdin));
        return (code, stdout.ToString(), stderr.ToString());
    }
}
