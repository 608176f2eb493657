using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>The web session of API.md §3 and §5: cookie sign-in, anti-forgery, first run, through HTTP.</summary>
public sealed partial class SessionTests
{
    private const string Password = "correct horse battery";

    private static async Task<SessionClient> SignedInAsync(DotApiFactory factory, string email, Role role = Role.User)
    {
        await factory.CreateUserAsync(email, role, Password);
        var session = await SessionClient.StartAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await session.SignInAsync(email, Password)).StatusCode);
        return session;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Headers.Location);
        Assert.Equal(reason, (await response.JsonAsync()).GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("http://localhost", false)]
    [InlineData("https://localhost", true)]
    public async Task SessionCookieIsHttpOnlyStrictAndSecureOverHttps(string baseAddress, bool secure)
    {
        await using var factory = new DotApiFactory();
        await factory.CreateUserAsync("ada@example.com", Role.User, Password);
        var session = await SessionClient.StartAsync(factory, baseAddress);

        var response = await session.SignInAsync("ada@example.com", Password);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("dot_session=", StringComparison.Ordinal));
        var flags = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(f => f.ToLowerInvariant()).ToList();
        Assert.Contains("httponly", flags);
        Assert.Contains("samesite=strict", flags);
        Assert.Contains("path=/", flags);
        Assert.Equal(secure, flags.Contains("secure"));
        Assert.DoesNotContain(flags, f => f.StartsWith("expires=", StringComparison.Ordinal)); // a browser-session cookie
    }

    [Fact]
    public async Task CookieSessionIsReportedAsMethodCookie()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com", Role.Modeler);

        var response = await session.Http.GetAsync("/api/auth/me");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var me = await response.JsonAsync();
        Assert.Equal("ada@example.com", me.GetProperty("email").GetString());
        Assert.Equal("modeler", me.GetProperty("role").GetString());
        Assert.Equal("cookie", me.GetProperty("auth").GetProperty("method").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, me.GetProperty("auth").GetProperty("token_id").ValueKind);
        var state = await session.RefreshAsync();
        Assert.Equal("ada@example.com", state.GetProperty("user").GetProperty("email").GetString());
    }

    [Fact]
    public async Task SignInWithWrongPasswordIs401AndUnknownEmailLooksTheSame()
    {
        await using var factory = new DotApiFactory();
        await factory.CreateUserAsync("ada@example.com", Role.User, Password);
        await factory.CreateUserAsync("nopassword@example.com");
        var session = await SessionClient.StartAsync(factory);

        var wrong = await session.SignInAsync("ada@example.com", "not the password");
        var unknown = await session.SignInAsync("nobody@example.com", Password);
        var noPassword = await session.SignInAsync("nopassword@example.com", Password);

        await AssertProblemAsync(wrong, HttpStatusCode.Unauthorized, "invalid_credentials");
        await AssertProblemAsync(unknown, HttpStatusCode.Unauthorized, "invalid_credentials");
        await AssertProblemAsync(noPassword, HttpStatusCode.Unauthorized, "invalid_credentials");
        Assert.Equal((await wrong.JsonAsync()).GetProperty("detail").GetString(), (await unknown.JsonAsync()).GetProperty("detail").GetString());
        const string Refusal = "Wrong email or password. A user without a password gets one with "
            + "`dot-api users set-password --email E --password-stdin`, or from an admin on this page.";
        foreach (var response in new[] { wrong, unknown, noPassword })
        {
            Assert.Equal(Refusal, (await response.JsonAsync()).GetProperty("detail").GetString());
        }

        Assert.False(wrong.Headers.Contains("Set-Cookie") && wrong.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("dot_session=", StringComparison.Ordinal)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task PasswordGuessingIsThrottledLikeTokenGuessing()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Auth:MaxFailuresPerMinute", "3");
        await factory.CreateUserAsync("ada@example.com", Role.User, Password);
        var session = await SessionClient.StartAsync(factory);

        for (var i = 0; i < 4; i++)
        {
            await AssertProblemAsync(await session.SignInAsync("ada@example.com", $"guess {i}"), HttpStatusCode.Unauthorized, "invalid_credentials");
        }

        var throttled = await session.SignInAsync("ada@example.com", Password); // the right password, too late
        await AssertProblemAsync(throttled, HttpStatusCode.TooManyRequests, "throttled");
        Assert.True(throttled.Headers.Contains("Retry-After"));
        Assert.Equal("Too Many Requests", (await throttled.JsonAsync()).GetProperty("title").GetString());

        factory.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await session.SignInAsync("ada@example.com", Password)).StatusCode);
    }

    [Fact]
    public async Task SignInLogsNeitherPasswordNorEmail()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        await SignedInAsync(factory, "ada@example.com");
        var session = await SessionClient.StartAsync(factory);
        await session.SignInAsync("ada@example.com", "a wrong password");

        Assert.DoesNotContain(Password, factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("a wrong password", factory.Logs.AllText, StringComparison.Ordinal);
        Assert.DoesNotContain("ada@example.com", factory.Logs.AllText, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task DisabledUserCannotSignIn()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("ada@example.com", Role.User, Password);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/users/{user.Id}", new { disabled = true })).StatusCode);
        var session = await SessionClient.StartAsync(factory);

        await AssertProblemAsync(await session.SignInAsync("ada@example.com", Password), HttpStatusCode.Forbidden, "disabled_user");
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task SignInWithoutAntiforgeryTokenIsRefused()
    {
        await using var factory = new DotApiFactory();
        await factory.CreateUserAsync("ada@example.com", Role.User, Password);
        var session = await SessionClient.StartAsync(factory);

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/sign-in",
            new { email = "ada@example.com", password = Password }, antiforgery: false);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "antiforgery_token_invalid");
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task CookiePostWithoutAntiforgeryTokenIsRefused()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");

        var missing = await session.SendAsync(HttpMethod.Post, "/api/tokens", new { name = "ci", expires_in_days = 30 }, antiforgery: false);
        var forged = new HttpRequestMessage(HttpMethod.Post, "/api/tokens") { Content = JsonContent.Create(new { name = "ci" }) };
        forged.Headers.Add("X-CSRF-TOKEN", "forged");
        var wrong = await session.Http.SendAsync(forged);

        await AssertProblemAsync(missing, HttpStatusCode.Forbidden, "antiforgery_token_invalid");
        await AssertProblemAsync(wrong, HttpStatusCode.Forbidden, "antiforgery_token_invalid");
        var list = await (await session.Http.GetAsync("/api/tokens")).JsonAsync();
        Assert.Equal(0, list.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task CookieDeleteWithoutAntiforgeryTokenIsRefused()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");
        var (token, id) = await factory.CreateTokenAsync(await FindUserIdAsync(session), "mine");

        var response = await session.SendAsync(HttpMethod.Delete, $"/api/tokens/{id}", antiforgery: false);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "antiforgery_token_invalid");
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(token).GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task CookieChangesWithAntiforgeryTokenSucceed()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");

        var created = await session.SendAsync(HttpMethod.Post, "/api/tokens", new { name = "ci", expires_in_days = 30 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await created.JsonAsync();
        var token = body.GetProperty("token").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientWith(token).GetAsync("/api/auth/me")).StatusCode);

        var revoked = await session.SendAsync(HttpMethod.Delete, $"/api/tokens/{body.GetProperty("id").GetGuid()}");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWith(token).GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task ApiTokenCallsNeedNoAntiforgeryTokenEvenBesideASessionCookie()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");
        var (_, headerToken, plain) = await factory.CreateCallerAsync("bob@example.com");

        var created = await plain.PostAsJsonAsync("/api/tokens", new { name = "ci" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.JsonAsync()).GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await plain.DeleteAsync($"/api/tokens/{id}")).StatusCode);

        // The session client also carries ada's cookies; the header decides who calls, and needs no CSRF token.
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/tokens") { Content = JsonContent.Create(new { name = "via header" }) };
        request.Headers.Add("API-KEY", headerToken);
        var both = await session.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, both.StatusCode);
        var me = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
        me.Headers.Add("API-KEY", headerToken);
        var who = await (await session.Http.SendAsync(me)).JsonAsync();
        Assert.Equal("bob@example.com", who.GetProperty("email").GetString());
        Assert.Equal("header", who.GetProperty("auth").GetProperty("method").GetString());
    }

    [Fact]
    public async Task QueryTokenRuleHoldsBesideASessionCookie()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");
        var (user, token, _) = await factory.CreateCallerAsync("bob@example.com");

        var response = await session.Http.GetAsync($"/api/auth/me?user_id={user.Email}&api_token={token}");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "query_token_not_allowed");
    }

    [Fact]
    public async Task ExpiredSessionAnswers401ProblemNotARedirect()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");
        Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/tokens")).StatusCode);

        factory.Time.Advance(TimeSpan.FromHours(9));

        var response = await session.Http.GetAsync("/api/tokens");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "session_expired");
        Assert.True(response.Headers.WwwAuthenticate.Count > 0);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await session.RefreshAsync()).GetProperty("user").ValueKind);
    }

    [Fact]
    public async Task NonAdminSessionGets403ProblemFromUsers()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com", Role.Modeler);

        var response = await session.Http.GetAsync("/api/users");

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "insufficient_role");
    }

    [Theory]
    [InlineData("disable")]
    [InlineData("delete")]
    [InlineData("password")]
    public async Task SessionEndsAtOnceWhenTheUserIsDisabledDeletedOrGetsANewPassword(string change)
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");
        var id = await FindUserIdAsync(session);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);

        var done = change switch
        {
            "disable" => await admin.PatchAsJsonAsync($"/api/users/{id}", new { disabled = true }),
            "delete" => await admin.DeleteAsync($"/api/users/{id}"),
            _ => await admin.PatchAsJsonAsync($"/api/users/{id}", new { password = "a brand new password" }),
        };
        Assert.True(done.IsSuccessStatusCode);

        await AssertProblemAsync(await session.Http.GetAsync("/api/auth/me"), HttpStatusCode.Unauthorized, "session_expired");
    }

    [Fact]
    public async Task DemotionBitesOnASessionAtOnce()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com", Role.Admin);
        var id = await FindUserIdAsync(session);
        var (_, _, admin) = await factory.CreateCallerAsync("admin@example.com", Role.Admin);
        Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/users")).StatusCode);

        await admin.PatchAsJsonAsync($"/api/users/{id}", new { role = "user" });

        await AssertProblemAsync(await session.Http.GetAsync("/api/users"), HttpStatusCode.Forbidden, "insufficient_role");
        Assert.Equal("user", (await (await session.Http.GetAsync("/api/auth/me")).JsonAsync()).GetProperty("role").GetString());
    }

    [Fact]
    public async Task SignOutEndsTheSession()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");

        Assert.Equal(HttpStatusCode.NoContent, (await session.SendAsync(HttpMethod.Post, "/api/session/sign-out")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task ACopiedCookieStopsWorkingWhenItsSessionSignsOut()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");
        var copy = session.Copy(factory);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/api/tokens")).StatusCode); // the copy is good

        Assert.Equal(HttpStatusCode.NoContent, (await session.SendAsync(HttpMethod.Post, "/api/session/sign-out")).StatusCode);

        await AssertProblemAsync(await copy.GetAsync("/api/tokens"), HttpStatusCode.Unauthorized, "session_expired");
        await AssertProblemAsync(await copy.GetAsync("/api/auth/me"), HttpStatusCode.Unauthorized, "session_expired");
        var state = await (await copy.GetAsync("/api/session")).JsonAsync();
        Assert.Equal(System.Text.Json.JsonValueKind.Null, state.GetProperty("user").ValueKind);
        var create = await copy.PostAsJsonAsync("/api/tokens", new { name = "stolen", expires_in_days = 30 });
        Assert.Equal(HttpStatusCode.Unauthorized, create.StatusCode);

        // Nothing was made with the copy: the owner, signed in again, has no token.
        var again = await SessionClient.StartAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await again.SignInAsync("ada@example.com", Password)).StatusCode);
        Assert.Equal(0, (await (await again.Http.GetAsync("/api/tokens")).JsonAsync()).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task SignOutEndsOnlyThatSession()
    {
        await using var factory = new DotApiFactory();
        var laptop = await SignedInAsync(factory, "ada@example.com");
        var phone = await SessionClient.StartAsync(factory);
        Assert.Equal(HttpStatusCode.OK, (await phone.SignInAsync("ada@example.com", Password)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await laptop.SendAsync(HttpMethod.Post, "/api/session/sign-out")).StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await laptop.Http.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await phone.Http.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task ACookieRequestReadsItsSessionAndUserInOneQuery()
    {
        await using var factory = new DotApiFactory().WithTraceLogging();
        var session = await SignedInAsync(factory, "ada@example.com");
        var before = factory.Logs.Entries.Count;

        Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/auth/me")).StatusCode);

        // SQLite's SQL quotes every table name; PostgreSQL's only those that need it (neither of these).
        var commands = factory.Logs.Entries.Skip(before)
            .Where(e => e.Contains("Executed DbCommand", StringComparison.Ordinal) && UsersOrSessionsTable().IsMatch(e))
            .ToList();
        var query = Assert.Single(commands);
        Assert.Matches("""FROM "?user_sessions"?\s""", query);
        Assert.Matches("""JOIN "?users"?\s""", query);
    }

    [Fact]
    public async Task SessionEndsAfterItsAbsoluteLifetimeWhateverTheActivity()
    {
        await using var factory = new DotApiFactory();
        var session = await SignedInAsync(factory, "ada@example.com");

        // A request every 6 hours keeps the 8-hour idle window open (and renews the cookie) for 24 hours...
        foreach (var hours in new[] { 6, 12, 18, 23 })
        {
            factory.Time.SetUtcNow(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero).AddHours(hours));
            Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/tokens")).StatusCode);
        }

        // ...but not past the absolute lifetime (default 24 hours), only an hour after the last request.
        factory.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        await AssertProblemAsync(await session.Http.GetAsync("/api/tokens"), HttpStatusCode.Unauthorized, "session_expired");
    }

    [Fact]
    public async Task AbsoluteLifetimeIsASetting()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Sessions:AbsoluteLifetimeHours", "2");
        var session = await SignedInAsync(factory, "ada@example.com");

        factory.Time.Advance(TimeSpan.FromMinutes(119));
        Assert.Equal(HttpStatusCode.OK, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
        factory.Time.Advance(TimeSpan.FromMinutes(1));

        await AssertProblemAsync(await session.Http.GetAsync("/api/auth/me"), HttpStatusCode.Unauthorized, "session_expired");
    }

    [Theory]
    [InlineData("0")]
    [InlineData("721")]
    public async Task AbsoluteLifetimeOutsideOneTo720HoursStopsTheStart(string hours)
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Sessions:AbsoluteLifetimeHours", hours);

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains($"Dot:Sessions:AbsoluteLifetimeHours must be between 1 and 720 (hours); it is {hours}.", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignInDeletesTheUsersSessionsEndedOrExpiredMoreThanADayAgo()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("ada@example.com", Role.User, Password);
        var other = await factory.CreateUserAsync("bob@example.com", Role.User, Password);
        var signedOut = await SessionClient.StartAsync(factory);
        await signedOut.SignInAsync("ada@example.com", Password);
        await signedOut.SendAsync(HttpMethod.Post, "/api/session/sign-out");
        await (await SessionClient.StartAsync(factory)).SignInAsync("ada@example.com", Password); // left to expire
        await (await SessionClient.StartAsync(factory)).SignInAsync("bob@example.com", Password); // another user's
        Assert.Equal(3, await CountSessionsAsync(factory, null));

        factory.Time.Advance(TimeSpan.FromHours(24 + 23)); // ended 47 h ago, expired 23 h ago: only the first goes
        await (await SessionClient.StartAsync(factory)).SignInAsync("ada@example.com", Password);
        Assert.Equal(2, await CountSessionsAsync(factory, user.Id));

        factory.Time.Advance(TimeSpan.FromHours(2)); // now the expired one too
        await (await SessionClient.StartAsync(factory)).SignInAsync("ada@example.com", Password);
        Assert.Equal(2, await CountSessionsAsync(factory, user.Id));
        Assert.Equal(1, await CountSessionsAsync(factory, other.Id)); // only the signing-in user's rows are cleaned
    }

    private static async Task<int> CountSessionsAsync(DotApiFactory factory, Guid? userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Dot.Api.Data.DotDbContext>();
        return await db.UserSessions.CountAsync(s => userId == null || s.UserId == userId);
    }

    [Fact]
    public async Task FirstRunFromLoopbackCreatesTheAdminAndSignsIn()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("127.0.0.1");
        var session = await SessionClient.StartAsync(factory);
        var state = await session.RefreshAsync();
        Assert.True(state.GetProperty("setup_required").GetBoolean());
        Assert.True(state.GetProperty("setup_allowed").GetBoolean());
        Assert.False(state.GetProperty("setup_key_required").GetBoolean());

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", name = "Root", password = Password });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var me = await (await session.Http.GetAsync("/api/auth/me")).JsonAsync();
        Assert.Equal("admin", me.GetProperty("role").GetString());
        Assert.Equal("cookie", me.GetProperty("auth").GetProperty("method").GetString());
        Assert.False((await session.RefreshAsync()).GetProperty("setup_required").GetBoolean());
    }

    /// <summary>
    /// API.md §5: a request that carries X-Forwarded-For or Forwarded from a peer that is not a known proxy is not a
    /// loopback request, whatever the connection's address: a proxy on the server's own machine makes every request
    /// look local.
    /// </summary>
    [Theory]
    [InlineData("127.0.0.2", "X-Forwarded-For", "8.8.8.8")]
    [InlineData("127.0.0.1", "X-Forwarded-For", "127.0.0.1")]
    [InlineData("::1", "X-Forwarded-For", "2001:db8::1")]
    [InlineData("127.0.0.2", "Forwarded", "for=8.8.8.8")]
    [InlineData("127.0.0.1", "Forwarded", "for=127.0.0.1;proto=http")]
    public async Task FirstRunFromLoopbackWithAForwardedHeaderAndNoKnownProxyIsRefused(string peer, string header, string value)
    {
        await using var factory = new DotApiFactory().WithRemoteAddress(peer);
        var session = await SessionClient.StartAsync(factory);
        session.Http.DefaultRequestHeaders.Add(header, value);
        Assert.False((await session.RefreshAsync()).GetProperty("setup_allowed").GetBoolean());

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", password = Password });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "setup_not_local");
        Assert.True((await session.RefreshAsync()).GetProperty("setup_required").GetBoolean());
        Assert.Equal(0, await UserCountAsync(factory));
    }

    [Theory]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task FirstRunFromLoopbackWithoutAForwardedHeaderIsAllowed(string peer)
    {
        await using var factory = new DotApiFactory().WithRemoteAddress(peer);
        var session = await SessionClient.StartAsync(factory);
        Assert.True((await session.RefreshAsync()).GetProperty("setup_allowed").GetBoolean());

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", password = Password });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>A known proxy on the server's machine: its X-Forwarded-For is believed, so the client it names decides.</summary>
    [Theory]
    [InlineData("8.8.8.8", HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.1", HttpStatusCode.Created)]
    public async Task FirstRunThroughAKnownLoopbackProxyIsJudgedOnTheForwardedClient(string client, HttpStatusCode expected)
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("127.0.0.1").WithSetting("Dot:ForwardedHeaders:KnownProxies", "127.0.0.1");
        var session = await SessionClient.StartAsync(factory);
        session.Http.DefaultRequestHeaders.Add("X-Forwarded-For", client);

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", password = Password });

        Assert.Equal(expected, response.StatusCode);
    }

    private static async Task<int> UserCountAsync(DotApiFactory factory)
    {
        await using var db = factory.OpenStore();
        return await db.Users.CountAsync();
    }

    [Fact]
    public async Task FirstRunFromARemoteAddressIsRefusedWithoutAKey()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("203.0.113.7");
        var session = await SessionClient.StartAsync(factory);
        Assert.False((await session.RefreshAsync()).GetProperty("setup_allowed").GetBoolean());

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", password = Password, setup_key = "anything" });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "setup_not_local");
        Assert.True((await session.RefreshAsync()).GetProperty("setup_required").GetBoolean());
    }

    [Theory]
    [InlineData("203.0.113.7", "s3cret-setup-key", HttpStatusCode.Created)]
    [InlineData("203.0.113.7", "wrong", HttpStatusCode.Forbidden)]
    [InlineData("203.0.113.7", null, HttpStatusCode.Forbidden)]
    [InlineData("127.0.0.1", null, HttpStatusCode.Forbidden)]
    [InlineData("::1", "s3cret-setup-key", HttpStatusCode.Created)]
    public async Task FirstRunWithAConfiguredKeyNeedsThatKeyFromAnywhere(string address, string? key, HttpStatusCode expected)
    {
        await using var factory = new DotApiFactory().WithRemoteAddress(address).WithSetting("Dot:Setup:Key", "s3cret-setup-key");
        var session = await SessionClient.StartAsync(factory);
        var state = await session.RefreshAsync();
        Assert.True(state.GetProperty("setup_key_required").GetBoolean());
        Assert.True(state.GetProperty("setup_allowed").GetBoolean());

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", password = Password, setup_key = key });

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Equal("setup_key_invalid", (await response.JsonAsync()).GetProperty("reason").GetString());
        }
    }

    [Fact]
    public async Task FirstRunIsClosedOnceAUserExists()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("127.0.0.1");
        await factory.CreateUserAsync("someone@example.com");
        var session = await SessionClient.StartAsync(factory);
        Assert.False((await session.RefreshAsync()).GetProperty("setup_required").GetBoolean());

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup",
            new { email = "root@example.com", password = Password });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await session.Http.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task FirstRunValidatesTheForm()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress("127.0.0.1");
        var session = await SessionClient.StartAsync(factory);

        var response = await session.SendAsync(HttpMethod.Post, "/api/session/setup", new { email = "not-an-email", password = "short" });

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var errors = (await response.JsonAsync()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("email", out _));
        Assert.True(errors.TryGetProperty("password", out _));
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("90", false)]
    public async Task TokenPolicyTellsWhetherNeverIsAllowed(string? maxLifetimeDays, bool neverAllowed)
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Tokens:MaxLifetimeDays", maxLifetimeDays);
        var (_, _, client) = await factory.CreateCallerAsync("ada@example.com");

        var policy = await (await client.GetAsync("/api/tokens/policy")).JsonAsync();

        Assert.Equal(neverAllowed, policy.GetProperty("never_expires_allowed").GetBoolean());
        Assert.Equal(3650, policy.GetProperty("max_days").GetInt32());
        if (maxLifetimeDays is null)
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, policy.GetProperty("max_lifetime_days").ValueKind);
        }
        else
        {
            Assert.Equal(90, policy.GetProperty("max_lifetime_days").GetInt32());
        }
    }

    [Theory]
    [InlineData("/settings/users", "text/html")]
    [InlineData("/settings/users.js", "text/javascript")]
    [InlineData("/settings/users.css", "text/css")]
    public async Task SettingsPageIsServedWithSecurityHeaders(string path, string mediaType)
    {
        await using var factory = new DotApiFactory();

        var response = await factory.CreateClient().GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
    }

    [Fact]
    public async Task SettingsPageHasNoInlineScriptOrStyle()
    {
        await using var factory = new DotApiFactory();

        var html = await factory.CreateClient().GetStringAsync("/settings/users");

        Assert.DoesNotMatch(@"<script(?![^>]*\ssrc=)[^>]*>", html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(@"\sstyle\s*=", html);
        Assert.DoesNotMatch(@"\son[a-z]+\s*=", html);
        Assert.DoesNotMatch(@"(src|href)\s*=\s*""(https?:)?//", html); // nothing from another origin
    }

    [Fact]
    public async Task SwaggerDescribesTheSessionEndpointsButNotThePage()
    {
        await using var factory = new DotApiFactory();

        var response = await factory.CreateClient().GetAsync("/swagger/v1/swagger.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = (await response.JsonAsync()).GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/session/sign-in", out _));
        Assert.True(paths.TryGetProperty("/api/session/setup", out _));
        Assert.True(paths.TryGetProperty("/api/tokens/policy", out _));
        Assert.False(paths.TryGetProperty("/settings/users", out _));
    }

    private static async Task<Guid> FindUserIdAsync(SessionClient session)
        => (await (await session.Http.GetAsync("/api/auth/me")).JsonAsync()).GetProperty("id").GetGuid();

    /// <summary>The users or the user_sessions table named in SQL, quoted or not.</summary>
    [GeneratedRegex("""(?<![\w./])"?(users|user_sessions)"?(?!\w)""")]
    private static partial Regex UsersOrSessionsTable();
}
