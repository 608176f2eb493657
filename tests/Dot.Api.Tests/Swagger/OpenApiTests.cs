using System.Text;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// API.md §8: the OpenAPI document describes the wire. Every operation's example body, sent as it is, is accepted;
/// every 2xx response it documents has the property names the server really sends; no schema has a camelCase name.
/// </summary>
[Trait("Store", "any")] // the document against the routes, not the store
public sealed class OpenApiTests
{
    private static readonly HashSet<string> BodyRefusals = ["400", "415", "422"];

    [Fact]
    public async Task EverySchemaPropertyIsSnakeCase()
    {
        await using var factory = new DotApiFactory();
        var doc = await (await factory.CreateClient().GetAsync("/swagger/v1/swagger.json")).JsonAsync();

        var names = doc.GetProperty("components").GetProperty("schemas").EnumerateObject()
            .SelectMany(s => s.Value.TryGetProperty("properties", out var p) ? p.EnumerateObject().Select(x => $"{s.Name}.{x.Name}") : [])
            .ToList();
        Assert.Contains("CreateTokenRequest.expires_in_days", names);
        Assert.All(names, n => Assert.Matches("^[A-Za-z0-9]+\\.[a-z0-9_]+$", n));
    }

    /// <summary>Every /api operation that needs a caller says which scope a token needs, from the route's own RequireScope.</summary>
    [Fact]
    public async Task EveryOperationNamesItsScope()
    {
        await using var factory = new DotApiFactory();
        var doc = await (await factory.CreateClient().GetAsync("/swagger/v1/swagger.json")).JsonAsync();
        var scopes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in doc.GetProperty("paths").EnumerateObject().Where(p => !p.Name.StartsWith("/api/session", StringComparison.Ordinal) && p.Name.StartsWith("/api/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                Assert.True(operation.Value.TryGetProperty("x-dot-scope", out var scope), $"{name} names no scope");
                Assert.Contains($"Scope: a scoped token needs `{scope.GetString()}", operation.Value.GetProperty("description").GetString(), StringComparison.Ordinal);
                scopes[name] = scope.GetString()!;
            }
        }

        Assert.Equal("sync", scopes["POST /api/sync/{connection_type}/{connection_id}"]);
        Assert.Equal("profile", scopes["GET /api/auth/me"]);
        Assert.Equal("tokens", scopes["POST /api/tokens"]);
        Assert.Equal("history", scopes["GET /api/export_history"]);
        var sync = doc.GetProperty("paths").GetProperty("/api/sync/{connection_type}/{connection_id}").GetProperty("post");
        Assert.Equal("sync:{connection_type}/{connection_id}", sync.GetProperty("x-dot-scope-narrow").GetString());
    }

    [Fact]
    public async Task EveryExampleBodyIsAcceptedAndEveryDocumentedAnswerHasTheSentNames()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Sync:WorkerEnabled", "false").WithRemoteAddress("127.0.0.1");
        var (admin, token, client) = await factory.CreateCallerAsync("root@example.com", Role.Admin);
        var doc = await (await client.GetAsync("/swagger/v1/swagger.json")).JsonAsync();
        var schemas = doc.GetProperty("components").GetProperty("schemas");

        // Real resources for the path parameters, made through the API.
        var (_, tokenId) = await factory.CreateTokenAsync(admin.Id, "rotate me", TimeSpan.FromDays(30));
        var other = await factory.CreateUserAsync("other@example.com");
        var chat = await client.CreateChatAsync();
        await client.CreateConnectionAsync("postgres", "staging", new { host = "db.example.com" });
        var values = new Dictionary<string, string>
        {
            ["id"] = tokenId.ToString(),
            ["chat_id"] = chat.ToString(),
            ["connection_type"] = "postgres",
            ["connection_id"] = "staging",
        };

        var checkedBodies = new List<string>();
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                if (!operation.Value.TryGetProperty("requestBody", out var body))
                {
                    continue;
                }

                var name = $"{operation.Name.ToUpperInvariant()} {path.Name}";
                var media = body.GetProperty("content").EnumerateObject().First(c => c.Name.Contains("json", StringComparison.Ordinal));
                Assert.True(media.Value.TryGetProperty("example", out var example), $"{name} has a body but no example");
                var url = path.Name.Replace("{id}", path.Name.StartsWith("/api/users", StringComparison.Ordinal) ? other.Id.ToString() : values["id"],
                    StringComparison.Ordinal);
                foreach (var (key, value) in values)
                {
                    url = url.Replace("{" + key + "}", value, StringComparison.Ordinal);
                }

                using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url)
                {
                    Content = new StringContent(example.GetRawText(), Encoding.UTF8, "application/json"),
                };
                var response = await SendAsync(factory, client, path.Name, request);
                var text = await response.Content.ReadAsStringAsync();
                var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.False(BodyRefusals.Contains(status) || (int)response.StatusCode >= 500, $"{name}: its own example answered {status} {text}");
                checkedBodies.Add($"{name} → {status}");

                var documented = operation.Value.GetProperty("responses");
                Assert.True(documented.TryGetProperty(status, out var answer), $"{name} answered {status}, which it does not document");
                if (status[0] == '2' && answer.TryGetProperty("content", out var content))
                {
                    var schema = Resolve(content.EnumerateObject().First().Value.GetProperty("schema"), schemas);
                    AssertSameNames(name, schema, JsonDocument.Parse(text).RootElement, schemas);
                }
            }
        }

        // The operations a newcomer tries first did what their example says.
        Assert.Contains("POST /api/tokens → 201", checkedBodies);
        Assert.Contains("POST /api/tokens/{id}/rotate → 201", checkedBodies);
        Assert.Contains("POST /api/users → 201", checkedBodies);
        Assert.Contains("PATCH /api/users/{id} → 200", checkedBodies);
        Assert.Contains("POST /api/connections → 201", checkedBodies);
        Assert.Contains("POST /api/import_and_overwrite_external_asset → 200", checkedBodies);
        Assert.Contains("POST /api/chats → 201", checkedBodies);
        Assert.Contains("POST /api/chats/{chat_id}/messages → 201", checkedBodies);
        Assert.True(checkedBodies.Count >= 11, string.Join("\n", checkedBodies));
        _ = token;
    }

    /// <summary>The session routes are the page's: they want the anti-forgery token, as the page sends it.</summary>
    private static async Task<HttpResponseMessage> SendAsync(DotApiFactory factory, HttpClient client, string path, HttpRequestMessage request)
    {
        if (!path.StartsWith("/api/session", StringComparison.Ordinal))
        {
            return await client.SendAsync(request);
        }

        var session = await SessionClient.StartAsync(factory);
        request.Headers.Add("X-CSRF-TOKEN", session.AntiforgeryToken);
        return await session.Http.SendAsync(request);
    }

    private static JsonElement Resolve(JsonElement schema, JsonElement schemas)
        => schema.TryGetProperty("$ref", out var reference)
            ? schemas.GetProperty(reference.GetString()!.Split('/')[^1])
            : schema;

    /// <summary>The object's names are the schema's, both ways, and so on down into nested objects and arrays.</summary>
    private static void AssertSameNames(string where, JsonElement schema, JsonElement value, JsonElement schemas)
    {
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            foreach (var element in value.EnumerateArray())
            {
                AssertSameNames(where + "[]", Resolve(items, schemas), element, schemas);
            }

            return;
        }

        if (value.ValueKind != JsonValueKind.Object || !schema.TryGetProperty("properties", out var properties))
        {
            return;
        }

        var documented = properties.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        var sent = value.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.True(documented.SequenceEqual(sent), $"{where}: documented [{string.Join(", ", documented)}], sent [{string.Join(", ", sent)}]");
        foreach (var property in properties.EnumerateObject())
        {
            AssertSameNames($"{where}.{property.Name}", Resolve(property.Value, schemas), value.GetProperty(property.Name), schemas);
        }
    }
}
