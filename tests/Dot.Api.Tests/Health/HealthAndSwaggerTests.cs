using System.Net;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Tests;

public sealed class HealthAndSwaggerTests
{
    /// <summary>The three webhook routes of API.md §3, and the test host's probe.</summary>
    private static readonly HashSet<string> QueryTokenPaths =
    [
        "/api/test/query-probe",
        "/api/sync/{connection_type}/{connection_id}",
        "/api/import_and_overwrite_external_asset",
        "/api/export_history",
    ];

    [Fact]
    public async Task HealthEndpointsAnswerAnonymously()
    {
        await using var factory = new DotApiFactory();
        var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
    }

    [Fact]
    public async Task ReadinessIs503WhenTheDatabaseDoesNotAnswer()
    {
        await using var factory = new DotApiFactory();
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);

        if (factory.IsPostgres)
        {
            // The database goes away under the running server (FORCE ends its pooled connections): it cannot reconnect.
            await SharedPostgres.DropDatabaseAsync(factory.PostgresDatabase!);
        }
        else
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(factory.DatabasePath);
            Directory.Delete(factory.Directory, recursive: true); // SQLite cannot even recreate the file now
        }

        var response = await client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live")).StatusCode);
    }

    [Fact]
    public async Task UnknownRoutesAre404ProblemDetails()
    {
        await using var factory = new DotApiFactory();
        var response = await factory.CreateClient().GetAsync("/api/nothing-here");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task SwaggerDeclaresTheHeaderEverywhereAndTheQueryOnlyWhereAllowed()
    {
        await using var factory = new DotApiFactory().WithEndpoints(routes => routes
            .MapPost("/api/test/query-probe", () => TypedResults.Ok())
            .RequireRole(Role.User)
            .AllowApiTokenInQuery());
        var client = factory.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/swagger/index.html")).StatusCode);
        var doc = await (await client.GetAsync("/swagger/v1/swagger.json")).JsonAsync();
        var schemes = doc.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("API-KEY", schemes.GetProperty("ApiKeyHeader").GetProperty("name").GetString());
        Assert.Equal("query", schemes.GetProperty("ApiTokenQuery").GetProperty("in").GetString());
        Assert.Equal("user_id", schemes.GetProperty("UserIdQuery").GetProperty("name").GetString());

        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var names = operation.Value.TryGetProperty("security", out var security)
                    ? security.EnumerateArray().SelectMany(r => r.EnumerateObject().Select(p => p.Name)).ToHashSet()
                    : [];
                var where = $"{operation.Name} {path.Name}";
                if (path.Name.StartsWith("/healthz", StringComparison.Ordinal) || path.Name.StartsWith("/api/session", StringComparison.Ordinal))
                {
                    Assert.Empty(names);
                    continue;
                }

                Assert.True(names.Contains("ApiKeyHeader"), where);
                Assert.Equal(QueryTokenPaths.Contains(path.Name), names.Contains("ApiTokenQuery"));
                Assert.Equal(QueryTokenPaths.Contains(path.Name), names.Contains("UserIdQuery"));
            }
        }
    }

    /// <summary>Each operation lists the problem statuses its handler's typed results can answer (API.md §8).</summary>
    [Theory]
    [InlineData("/api/tokens", "post", "201 401 403 409 422")]
    [InlineData("/api/tokens/{id}/rotate", "post", "201 401 403 404 409 422")]
    [InlineData("/api/tokens/{id}", "delete", "204 401 403 404")]
    [InlineData("/api/users/{id}", "patch", "200 401 403 404 409 422")]
    [InlineData("/api/users", "post", "201 401 403 409 422")]
    [InlineData("/api/sync/{connection_type}/{connection_id}", "post", "202 401 403 404 413 422")]
    [InlineData("/api/connections", "post", "201 401 403 409 422")]
    [InlineData("/api/chats/{chat_id}/messages", "post", "201 401 403 404 422")]
    [InlineData("/healthz", "get", "200 503")]
    [InlineData("/api/session/sign-in", "post", "200 401 403 422 429")]
    public async Task SwaggerDeclaresEveryStatusAnOperationCanAnswer(string path, string method, string statuses)
    {
        await using var factory = new DotApiFactory();
        var doc = await (await factory.CreateClient().GetAsync("/swagger/v1/swagger.json")).JsonAsync();

        var responses = doc.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");
        var declared = responses.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(statuses.Split(' '), declared);
        foreach (var problem in responses.EnumerateObject().Where(r => r.Name[0] is '4' or '5' && r.Value.TryGetProperty("content", out _)))
        {
            Assert.True(problem.Value.GetProperty("content").TryGetProperty("application/problem+json", out _), $"{path} {problem.Name}");
        }
    }

    [Fact]
    public async Task SwaggerCanBeSwitchedOff()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Swagger:Enabled", "false");

        Assert.Equal(HttpStatusCode.NotFound, (await factory.CreateClient().GetAsync("/swagger/v1/swagger.json")).StatusCode);
    }

    [Theory]
    [InlineData("/swagger/index.html")]
    [InlineData("/swagger/index.js")]
    [InlineData("/swagger/swagger-ui-bundle.js")]
    [InlineData("/swagger/swagger-ui.css")]
    [InlineData("/swagger/v1/swagger.json")]
    public async Task SwaggerResponsesCarryAContentSecurityPolicyThatForbidsFraming(string path)
    {
        await using var factory = new DotApiFactory();

        var response = await factory.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task SwaggerUiDoesNotPersistTheAuthorizationInBrowserStorage()
    {
        await using var factory = new DotApiFactory();
        var client = factory.CreateClient();

        // Swashbuckle writes the UI's configuration into index.js; index.html only loads scripts by src.
        var html = await client.GetStringAsync("/swagger/index.html");
        var script = await client.GetStringAsync("/swagger/index.js");

        Assert.DoesNotMatch(@"<script(?![^>]*\ssrc=)[^>]*>", html);
        Assert.Contains("\"persistAuthorization\":false", script, StringComparison.Ordinal);
        Assert.DoesNotContain("\"persistAuthorization\":true", script, StringComparison.Ordinal);
    }
}
