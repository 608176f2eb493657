using System.Net;
using System.Text;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>What a request may carry: each limit answers a clear problem-details 4xx.</summary>
public sealed class LimitsTests
{
    [Fact]
    public async Task DeclaredBodyOverOneMebibyteIs413()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("big@example.com");

        var response = await client.PostAsync("/api/tokens", new ByteArrayContent(new byte[(1024 * 1024) + 1]) { Headers = { { "Content-Type", "application/json" } } });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheBodyLimitIsASetting()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Limits:MaxRequestBodyBytes", "100");
        var (_, _, client) = await factory.CreateCallerAsync("small@example.com");

        var body = "{\"name\":\"" + new string('x', 100) + "\"}";
        var response = await client.PostAsync("/api/tokens", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task LongQueryStringIs414()
    {
        await using var factory = new DotApiFactory();

        var response = await factory.CreateClient().GetAsync("/api/auth/me?x=" + new string('a', 3000));

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DeeplyNestedJsonIs400()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("deep@example.com");
        var deep = "{\"name\":\"x\",\"description\":" + string.Concat(Enumerable.Repeat("[", 200)) + string.Concat(Enumerable.Repeat("]", 200)) + "}";

        var response = await client.PostAsync("/api/tokens", new StringContent(deep, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("nested too deeply", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OverlongCredentialIsRefusedAsMalformed()
    {
        await using var factory = new DotApiFactory();

        var response = await factory.ClientWith("dot-" + new string('a', 10_000)).GetAsync("/api/auth/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("longer than 256", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChunkedBodyOverTheLimitIs413OnTheRealServer()
    {
        var directory = Path.Combine(Path.GetTempPath(), "dot-api-limits", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var database = Path.Combine(directory, "dot.db");
            await ServerProcess.RunAsync(database, null, "users", "add", "--email", "k@example.com", "--role", "user");
            var token = (await ServerProcess.RunAsync(database, null, "tokens", "create", "--email", "k@example.com", "--name", "k")).Stdout.Trim();
            await using var server = await ServerProcess.StartAsync(database);
            using var client = server.Client(token);

            // No Content-Length: the server has to count. Just over the limit, so the whole body is
            // on the wire before the answer; a server that stops reading may still reset the
            // connection under the client's feet (a race of TCP, not of the server), so a reset is retried.
            // The body is valid JSON as far as it goes — one string that never ends — so the JSON reader
            // keeps reading until the limit stops it, and the answer is always 413, never a parse error's 400.
            var body = new byte[(1024 * 1024) + (16 * 1024)];
            body.AsSpan().Fill((byte)'a');
            "{\"name\": \""u8.CopyTo(body);
            HttpResponseMessage? response = null;
            for (var attempt = 1; response is null; attempt++)
            {
                var content = new StreamContent(new MemoryStream(body));
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokens") { Content = content };
                request.Headers.TransferEncodingChunked = true;
                try
                {
                    response = await client.SendAsync(request);
                }
                catch (HttpRequestException) when (attempt < 3)
                {
                }
            }

            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }
}
