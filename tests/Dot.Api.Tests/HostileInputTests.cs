using System.Net;
using System.Text;
using CsCheck;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Xunit.Abstractions;

namespace Dot.Api.Tests;

/// <summary>
/// Property-based abuse: thousands of generated hostile requests — header values, query strings,
/// path segments, JSON bodies of every endpoint, wrong content types. None may answer 5xx, none may
/// be authenticated by a bad credential, and the server must still answer a valid request after.
/// </summary>
public sealed class HostileInputTests(ITestOutputHelper output)
{
    private const int Iterations = 2500;

    /// <summary>Every route of the API, with placeholders for ids.</summary>
    private static readonly string[] Routes =
    [
        "/api/auth/me", "/api/tokens", "/api/tokens/{guid}", "/api/tokens/{guid}/rotate", "/api/users", "/api/users/{guid}",
        "/api/audit_events", "/api/connections", "/api/connections/postgres/{slug}", "/api/connections/{any}/{any}",
        "/api/sync/postgres/{slug}", "/api/sync/{any}/{any}", "/api/sync/runs/{guid}", "/api/sync/runs/{any}",
        "/api/import_and_overwrite_external_asset", "/api/external_assets", "/api/external_assets/{any}",
        "/api/chats", "/api/chats/{guid}", "/api/chats/{guid}/messages", "/api/chats/{any}", "/api/add_label_to_chat",
        "/api/export_history", "/api/connections/postgres/{slug}/catalog", "/healthz", "/healthz/live", "/{any}",
    ];

    private static readonly string[] Fields =
    [
        "name", "description", "expires_in_days", "expires_at", "user_id", "email", "role", "password", "disabled",
        "grace_period_minutes", "external_asset", "id", "subtype", "folder", "url", "active", "view_count",
        "last_accessed_at", "dot_description", "title", "content", "labels", "chat_id", "type", "settings", "secrets",
        "scopes", "allowed_ips", "kind",
    ];

    private static readonly Gen<string> Nasty = Gen.OneOf(
        Gen.String[0, 40],
        Gen.Char.Array[0, 300].Select(c => new string(c)),
        Gen.OneOf("", " ", "null", "-1", "0", "1e309", "NaN", "../../etc/passwd", "%00", "\u0000", "\r\n", "' OR 1=1 --",
            "<script>alert(1)</script>", "dot-", "admin", "ADMIN", "😀", "\uFFFF", "\uD800", new string('a', 5000), "2026-02-30",
            "9999-12-31T23:59:59Z", "-0001-01-01", "true", "[]", "{}"));

    private static readonly Gen<string> Credential = Gen.OneOf(
        Nasty,
        Gen.Const(0).Select(_ => TokenFormat.Generate()), // well-formed, unknown
        Gen.Char["0123456789abcdef"].Array[64].Select(c => "dot-" + new string(c)), // right shape, wrong checksum (almost surely)
        Gen.Const(0).Select(_ => TokenFormat.Generate().ToUpperInvariant()),
        Gen.Const(0).Select(_ => TokenFormat.Generate()[..67]),
        Gen.Const(0).Select(_ => TokenFormat.Generate() + "\n" + TokenFormat.Generate()));

    private static Gen<string> JsonValue(int depth)
    {
        var scalar = Gen.OneOf(
            Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400"),
            Nasty.Select(s => System.Text.Json.JsonSerializer.Serialize(s)),
            Gen.OneOf("true", "false", "null", "\"2026-01-15T12:00:00Z\"", "\"https://example.com/x\"", "\"javascript:alert(1)\"", "\"user\"", "\"admin\""));
        if (depth == 0)
        {
            return scalar;
        }

        var inner = JsonValue(depth - 1);
        return Gen.OneOf(
            scalar,
            inner.Array[0, 4].Select(items => "[" + string.Join(',', items) + "]"),
            Gen.Select(Gen.OneOf(Gen.OneOf(Fields), Nasty), inner).Array[0, 6]
                .Select(pairs => "{" + string.Join(',', pairs.Select(p => System.Text.Json.JsonSerializer.Serialize(p.Item1) + ":" + p.Item2)) + "}"));
    }

    private static readonly Gen<string> Body = Gen.OneOf(
        JsonValue(3),
        Gen.Select(JsonValue(2), Gen.OneOf(Fields)).Select(t => "{\"" + t.Item2 + "\":" + t.Item1 + "}"),
        Gen.Select(JsonValue(2), Gen.OneOf(Fields)).Select(t => "{\"external_asset\":{\"id\":\"a\",\"name\":\"n\",\"" + t.Item2 + "\":" + t.Item1 + "}}"),
        Nasty,
        Gen.Const(string.Concat(Enumerable.Repeat("[", 100)) + string.Concat(Enumerable.Repeat("]", 100))));

    private sealed record Attempt(string Method, string Path, string Query, string? HeaderName, string? Credential, string? Body, string? ContentType);

    private static Gen<Attempt> Attempts(bool withCredential) =>
        from method in Gen.OneOf("GET", "POST", "PATCH", "DELETE", "PUT")
        from route in Gen.OneOf(Routes)
        from segment in Nasty
        from guid in Gen.Guid
        from query in Gen.Select(Gen.OneOf(Gen.OneOf("api_token", "user_id", "start_date", "end_date", "format", "limit", "cursor", "type", "active", "subtype", "folder", "from", "to"), Nasty), Nasty).Array[0, 4]
        from header in Gen.OneOf("API-KEY", "X-API-KEY", "api-key", "Authorization", "Cookie")
        from credential in Credential
        from body in Body
        from contentType in Gen.OneOf<string?>("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/xml", null)
        select new Attempt(
            method,
            route.Replace("{guid}", guid.ToString(), StringComparison.Ordinal)
                 .Replace("{slug}", "my-db", StringComparison.Ordinal)
                 .Replace("{any}", Uri.EscapeDataString(segment.Length > 200 ? segment[..200] : segment), StringComparison.Ordinal),
            string.Join('&', query.Select(q => Uri.EscapeDataString(q.Item1) + "=" + Uri.EscapeDataString(q.Item2.Length > 300 ? q.Item2[..300] : q.Item2))),
            withCredential ? header : null,
            withCredential ? credential : null,
            method is "GET" or "DELETE" ? null : body,
            contentType);

    private static async Task<HttpStatusCode> SendAsync(HttpClient client, Attempt a)
    {
        using var request = new HttpRequestMessage(new HttpMethod(a.Method), a.Path + (a.Query.Length > 0 ? "?" + a.Query : ""));
        if (a.HeaderName is not null && a.Credential is not null)
        {
            request.Headers.TryAddWithoutValidation(a.HeaderName, a.Credential);
        }

        if (a.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(a.Body));
            if (a.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", a.ContentType);
            }
        }

        try
        {
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }
        catch (HttpRequestException ex) when (ex.Message.Contains("New-line", StringComparison.Ordinal) || ex.Message.Contains("header", StringComparison.OrdinalIgnoreCase) && ex.InnerException is null)
        {
            return 0; // the client itself refuses to put this on the wire: nothing reached the server
        }
    }

    /// <summary>A client that sends header values as UTF-8 bytes, so non-ASCII reaches the server.</summary>
    private static HttpClient RawClient(DotApiFactory factory, string? token = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 })
        {
            BaseAddress = factory.CreateClient().BaseAddress,
        };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Add("API-KEY", token);
        }

        return client;
    }

    /// <summary>Kestrel on a loopback port, so requests are parsed as a real client's would be.</summary>
    private static DotApiFactory RealServer()
    {
        var factory = new DotApiFactory().WithSetting("Dot:Auth:ThrottleEnabled", "false").WithEnvironment("Production");
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }

    [Fact]
    public async Task HostileCredentialsNeverAuthenticateAndNeverCrash()
    {
        await using var factory = RealServer();
        var (_, token, valid) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        using var client = RawClient(factory);
        var tried = 0;
        var sent = 0;

        await Attempts(withCredential: true).SampleAsync(async a =>
        {
            Interlocked.Increment(ref tried);
            var status = (int)await SendAsync(client, a);
            if (status == 0)
            {
                return;
            }

            Interlocked.Increment(ref sent);
            Assert.True(status < 500, $"{status} for {a}");
            if (a.Path.StartsWith("/api/", StringComparison.Ordinal))
            {
                Assert.True(status is < 200 or >= 300, $"authenticated {status} for {a}");
            }
        }, iter: Iterations, threads: 4);

        output.WriteLine($"tried {tried} hostile requests with hostile credentials ({sent} reached the server, the rest the client refused to send); none authenticated, none 5xx");
        Assert.True(sent > Iterations / 2, $"only {sent} of {tried} reached the server");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await valid.GetAsync("/api/auth/me")).StatusCode);
        Assert.DoesNotContain(token[4..], factory.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostileBodiesQueriesAndPathsFromAnAdminNeverCrash()
    {
        await using var factory = RealServer();
        var (_, adminToken, _) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        using var admin = RawClient(factory, adminToken);
        var (_, _, keeper) = await factory.CreateCallerAsync("keeper@example.com", Role.Admin);
        var tried = 0;

        await Attempts(withCredential: false).SampleAsync(async a =>
        {
            Interlocked.Increment(ref tried);
            if (a.Method == "DELETE" && a.Path.StartsWith("/api/users", StringComparison.Ordinal))
            {
                return; // deleting the callers themselves would end the test early, not find a bug
            }

            var status = (int)await SendAsync(admin, a);
            Assert.True(status < 500, $"{status} for {a}");
        }, iter: Iterations, threads: 4);

        output.WriteLine($"tried {tried} hostile requests as an admin; none 5xx");
        Assert.Equal(HttpStatusCode.OK, (await keeper.GetAsync("/api/auth/me")).StatusCode);
    }

    /// <summary>Every list paged with <c>limit</c> and <c>cursor</c> (API.md §4).</summary>
    private static readonly string[] PagedLists = ["/api/users", "/api/audit_events", "/api/connections", "/api/external_assets"];

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static string Base64Url(string text) => Base64Url(Encoding.UTF8.GetBytes(text));

    /// <summary>Cursors this server never gave out, each well-formed enough to be decoded.</summary>
    public static TheoryData<string> ForgedCursors => new()
    {
        "AA", // a NUL byte: PostgreSQL refuses it in a text parameter (22021)
        Base64Url("a\0b"),
        Base64Url("postgres\nmy\0db"),
        Base64Url("\u0001"),
        Base64Url("asset\u007f"),
        Base64Url("asset\u0085"),
        Base64Url("asset\r"),
        Base64Url("\n"),
        Base64Url("99999999999999999999\n" + Guid.NewGuid().ToString("N")),
        Base64Url("-1\n" + Guid.NewGuid().ToString("N")),
        Base64Url("638700000000000000\n" + Guid.NewGuid().ToString("N") + "\0"),
        Base64Url([0xff, 0xfe, 0x41]), // not UTF-8
        "AA==", // padded: not as this server writes them
        "AB", // stray bits past the last byte
        "YQ.", // not base64url
        Base64Url(new string('a', 900)), // longer than any cursor of ours
    };

    [Theory]
    [MemberData(nameof(ForgedCursors))]
    public async Task AForgedCursorIs422OnEveryList(string cursor)
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        foreach (var list in PagedLists)
        {
            var response = await admin.GetAsync($"{list}?cursor={Uri.EscapeDataString(cursor)}");

            Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity,
                $"{list}?cursor={cursor}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            var errors = (await response.JsonAsync()).GetProperty("errors");
            Assert.Equal(["cursor"], errors.EnumerateObject().Select(e => e.Name));
        }
    }

    /// <summary>The sort keys of the lists, as a cursor's parts: a time and an id, a type and an id, an asset id.</summary>
    private static readonly Gen<string[]> KeyParts = Gen.OneOf(
        Gen.Select(Gen.Long[0, DateTime.MaxValue.Ticks], Gen.Guid).Select(t => new[] { t.Item1.ToString(System.Globalization.CultureInfo.InvariantCulture), t.Item2.ToString("N") }),
        Gen.OneOf("postgres", "dbt", "snowflake").Select(type => new[] { type, "my-db" }),
        Gen.OneOf("asset", "a", "zzz", "dashboard/42").Select(id => new[] { id }));

    /// <summary>
    /// Cursors of random bytes, of key-shaped parts with a control character slipped in (NUL, C0, DEL, C1), and of key
    /// parts mixed with hostile text.
    /// </summary>
    private static readonly Gen<string> HostileCursor = Gen.OneOf(
        Gen.Byte.Array[1, 60].Select(Base64Url),
        Gen.Select(KeyParts, Gen.OneOf(Gen.Char[(char)0, (char)0x1f], Gen.Char[(char)0x7f, (char)0x9f]), Gen.Int[0, 1000])
            .Select(t =>
            {
                var (parts, control, at) = t;
                var part = at % parts.Length;
                parts[part] = parts[part].Insert(at % (parts[part].Length + 1), control.ToString());
                return Base64Url(string.Join('\n', parts));
            }),
        Gen.Select(KeyParts, Nasty).Select(t => Base64Url(string.Join('\n', t.Item1.Append(t.Item2)))),
        Gen.OneOf(Nasty, Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), Gen.Guid.Select(g => g.ToString("N")))
            .Array[1, 3].Select(parts => Base64Url(string.Join('\n', parts))),
        Nasty);

    /// <summary>Whether <paramref name="cursor"/> decodes to text with a control character (other than the parts' separator): never one of ours.</summary>
    private static bool HoldsControlCharacter(string cursor)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(System.Buffers.Text.Base64Url.DecodeFromChars(cursor))
                .Any(c => c != '\n' && char.IsControl(c));
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException) // not base64url; not UTF-8 (DecoderFallbackException)
        {
            return false;
        }
    }

    [Fact]
    public async Task HostileCursorsOnEveryPagedListAnswerAPageOrA422()
    {
        await using var factory = new DotApiFactory();
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        var refused = 0;

        await Gen.Select(Gen.OneOf(PagedLists), HostileCursor).SampleAsync(async t =>
        {
            var (list, cursor) = t;
            cursor = cursor.Length > 400 ? cursor[..400] : cursor;
            var response = await admin.GetAsync($"{list}?cursor={Uri.EscapeDataString(cursor)}");
            var status = (int)response.StatusCode;

            // 400: a literal NUL in the query, refused before any endpoint (NulCharacterTests).
            Assert.True(status is 200 or 400 or 422, $"{status} for {list}?cursor={cursor}: {await response.Content.ReadAsStringAsync()}");
            if (HoldsControlCharacter(cursor))
            {
                Assert.True(status == 422, $"{status} for {list}?cursor={cursor}, which decodes to a control character");
            }

            if (status == 422)
            {
                Interlocked.Increment(ref refused);
                Assert.True((await response.JsonAsync()).GetProperty("errors").TryGetProperty("cursor", out _), $"422 not naming cursor for {cursor}");
            }
        }, iter: 1000, threads: 2);

        output.WriteLine($"1000 hostile cursors on {PagedLists.Length} lists: {refused} refused with 422, the rest a page or a 400; none 5xx");
    }

    /// <summary>Routes a token scoped to chats and one connection's sync must never get a 2xx from.</summary>
    private static readonly string[] OutsideChatsAndOneSync =
        ["/api/tokens", "/api/users", "/api/audit_events", "/api/connections", "/api/import_and_overwrite_external_asset", "/api/external_assets", "/api/export_history"];

    [Fact]
    public async Task HostileRequestsFromAScopedTokenNeverCrashAndNeverLeaveItsScopes()
    {
        await using var factory = RealServer();
        var admin = await factory.CreateUserAsync("admin@example.com", Role.Admin);
        var (scoped, _) = await factory.CreateTokenAsync(admin.Id, "scoped", scopes: ["chats", "sync:postgres/my-db"]);
        using var client = RawClient(factory, scoped);
        var tried = 0;

        await Attempts(withCredential: false).SampleAsync(async a =>
        {
            Interlocked.Increment(ref tried);
            var status = (int)await SendAsync(client, a);
            Assert.True(status < 500, $"{status} for {a}");
            var outside = OutsideChatsAndOneSync.Any(p => a.Path.StartsWith(p, StringComparison.Ordinal))
                || (a.Path.StartsWith("/api/sync/", StringComparison.Ordinal) && !a.Path.StartsWith("/api/sync/postgres/my-db", StringComparison.Ordinal)
                    && !a.Path.StartsWith("/api/sync/runs/", StringComparison.Ordinal));
            if (outside)
            {
                Assert.True(status is < 200 or >= 300, $"a token scoped to chats and sync:postgres/my-db got {status} for {a}");
            }
        }, iter: Iterations, threads: 4);

        output.WriteLine($"tried {tried} hostile requests with a scoped token; none 5xx, none outside its scopes succeeded");
    }
}
