using System.Net;
using System.Text;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>
/// A NUL character is refused wherever a client can send one, the same on both stores: PostgreSQL cannot keep it in
/// text (found by the hostile-input test on the PostgreSQL run: <c>GET /api/external_assets?folder=%00</c> was a 500).
/// </summary>
public sealed class NulCharacterTests
{
    [Theory]
    [InlineData("/api/external_assets?folder=%00")]
    [InlineData("/api/external_assets?subtype=a%00b")]
    [InlineData("/api/export_history?format=%00")]
    [InlineData("/api/connections?type=post%00gres")]
    public async Task ANulInTheQueryIsA400(string url)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.GetAsync(url);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("NUL", (await response.JsonAsync()).GetProperty("title").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/chats", """{"title": "a\u0000b"}""", "title")]
    [InlineData("/api/tokens", """{"name": "ci\u0000", "expires_in_days": 1}""", "name")]
    [InlineData("/api/import_and_overwrite_external_asset", """{"external_asset": {"id": "a", "name": "A", "folder": "\u0000"}}""", "external_asset.folder")]
    public async Task ANulInABodyIsA422NamingTheFieldAndWritesNothing(string path, string body, string field)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var response = await admin.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
        var tokens = (await (await admin.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items");
        Assert.Equal(1, tokens.GetArrayLength()); // the caller's own only
        var assets = (await (await admin.GetAsync("/api/external_assets")).JsonAsync()).GetProperty("items");
        Assert.Equal(0, assets.GetArrayLength());
    }
}
