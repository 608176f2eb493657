using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dot.Api.Access;
using Dot.Api.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dot.Api.BrowserTests;

/// <summary>
/// /settings/users in a real Chromium against the real server on a loopback port: what a person
/// does with the page, and what the tokens it hands out then do through the API.
/// </summary>
[Collection(BrowserTestGroup.Name)]
public sealed partial class SettingsUsersPageTests(BrowserFixture browser)
{
    private const string Password = "correct horse battery";

    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    [GeneratedRegex("^dot-[0-9a-f]{64}$")]
    private static partial Regex TokenShape();

    [SkippableFact]
    public async Task FirstRunCreatesTheAdminAndSignsIn()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var (page, problems) = await OpenAsync(context, server);

        var setup = page.Locator("#setup-view");
        await Expect(setup.GetByRole(AriaRole.Heading, new() { Name = "Create the first admin" })).ToBeVisibleAsync();
        await setup.GetByLabel("Email").FillAsync("root@example.com");
        await setup.GetByLabel("Name").FillAsync("Root Admin");
        await setup.GetByLabel("Password").FillAsync(Password);
        await setup.GetByRole(AriaRole.Button, new() { Name = "Create admin and sign in" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API tokens" })).ToBeVisibleAsync();
        await Expect(page.Locator("#whoami-text")).ToContainTextAsync("root@example.com · admin");
        await Expect(page.Locator("#users-body tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#tokens-status")).ToContainTextAsync("no tokens yet");

        // The form is gone for good: a second visitor gets the sign-in form, and the endpoint says 409.
        await using var other = await browser.NewContextAsync();
        var (second, _) = await OpenAsync(other, server);
        await Expect(second.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task ATokenCreatedOnThePageWorksIsShownOnceAndCanBeRevoked()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("ada@example.com", Role.User, Password, "Ada");
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "ada@example.com");

        // Create New Token: 30 days.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" });
        await Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByLabel("Name").FillAsync("CI deploy");
        await dialog.GetByLabel("Description").FillAsync("GitHub Actions, main branch");
        await dialog.GetByLabel("Expiration").SelectOptionAsync(new SelectOptionValue { Label = "30 days" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();

        // Shown once, with the warning; read it from the dialog.
        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new token" });
        await Expect(secretDialog).ToBeVisibleAsync();
        await Expect(secretDialog).ToContainTextAsync("It will not be shown again");
        var token = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        Assert.Matches(TokenShape(), token);

        // The token works from outside the browser, as its owner, for 30 days.
        using var api = server.ApiClient(token);
        var me = await api.GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var who = await me.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("ada@example.com", who.GetProperty("email").GetString());
        var expiresAt = who.GetProperty("auth").GetProperty("expires_at").GetDateTime().ToUniversalTime();
        Assert.InRange(expiresAt, DateTime.UtcNow.AddDays(30).AddMinutes(-5), DateTime.UtcNow.AddDays(30).AddMinutes(5));

        // Closing the dialog forgets the secret, and focus goes back to the button that opened the flow.
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(secretDialog).ToBeHiddenAsync();
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" })).ToBeFocusedAsync();
        await Expect(page.Locator("#secret-value")).ToHaveValueAsync(string.Empty); // cleared by the dialog's close event
        var row = page.Locator("#tokens-body tr", new() { HasText = "CI deploy" });
        await Expect(row).ToContainTextAsync(token[..10]);
        await Expect(row.Locator("td").Nth(6)).ToHaveTextAsync("active");

        // After a reload the secret is nowhere: not in the page, storage, cookies or the URL.
        await page.ReloadAsync();
        await Expect(row).ToBeVisibleAsync();
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);
        var everywhere = await page.EvaluateAsync<string>(
            "() => JSON.stringify([document.body.innerText, location.href, document.cookie, Object.entries(localStorage), Object.entries(sessionStorage), [...document.querySelectorAll('input')].map(i => i.value)])");
        Assert.DoesNotContain(token, everywhere, StringComparison.Ordinal);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Value.Contains(token[4..], StringComparison.Ordinal));

        // Revoke, after confirming: the next API call is refused.
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke token CI deploy" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Alertdialog, new() { Name = "Revoke this token?" });
        await Expect(confirm).ToBeVisibleAsync();
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Expect(confirm).ToBeHiddenAsync();

        // The confirmation stays on the page; the token moves to the collapsed section of revoked and expired ones.
        await Expect(page.Locator("#tokens-status")).ToHaveTextAsync("Token \"CI deploy\" revoked. You have no active tokens.");
        await Expect(row).ToHaveCountAsync(0);
        var inactive = page.Locator("#tokens-inactive");
        await Expect(inactive).ToBeVisibleAsync();
        await Expect(inactive).ToHaveJSPropertyAsync("open", false);
        await Expect(inactive.Locator("summary")).ToHaveTextAsync("Revoked and expired tokens (1)");
        var revokedRow = inactive.Locator("tbody tr", new() { HasText = "CI deploy" });
        await Expect(revokedRow).ToBeHiddenAsync();
        await inactive.Locator("summary").ClickAsync();
        await Expect(revokedRow).ToBeVisibleAsync();
        await Expect(revokedRow.Locator("td").Nth(6)).ToHaveTextAsync("revoked");
        await Expect(revokedRow.GetByRole(AriaRole.Button)).ToHaveCountAsync(0);

        var refused = await api.GetAsync("/api/auth/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal("revoked_token", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task AdminCopiesAnApiTokenForAnotherUser()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var admin = await server.CreateUserAsync("admin@example.com", Role.Admin, Password, "Grace Admin");
        await server.CreateUserAsync("bob@example.com", Role.Modeler, name: "Bob Modeler");
        var carol = await server.CreateUserAsync("carol@example.com", Role.User, name: "Carol User");
        await server.SetDisabledAsync(carol.Id, disabled: true);
        var (used, _) = await server.CreateTokenAsync(admin.Id, "dbt Cloud webhook", "Triggers a sync after each dbt run", days: 90);
        await server.CreateTokenAsync(admin.Id, "Looker import", "Nightly asset import", days: null);
        await server.CreateTokenAsync(admin.Id, "Old laptop", null, days: 30, revoked: true);
        using (var client = server.ApiClient(used))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        }

        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.BaseAddress.GetLeftPart(UriPartial.Authority) });
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "admin@example.com");

        var users = page.Locator("#users-section");
        await Expect(users.GetByRole(AriaRole.Heading, new() { Name = "Users" })).ToBeVisibleAsync();
        await Expect(users.Locator("tbody tr")).ToHaveCountAsync(3);
        var bob = users.Locator("tbody tr", new() { HasText = "bob@example.com" });
        await Expect(bob.Locator("td").Nth(2)).ToHaveTextAsync("modeler");
        await Expect(users.Locator("tbody tr", new() { HasText = "carol@example.com" }).Locator("td").Nth(3)).ToHaveTextAsync("disabled");

        await bob.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Copy API Token" }).ClickAsync();
        var form = page.GetByRole(AriaRole.Dialog, new() { Name = "Copy API Token" });
        await Expect(form.GetByLabel("Name")).ToHaveValueAsync(new Regex("^API token \\d{4}-\\d{2}-\\d{2}$"));
        await form.GetByRole(AriaRole.Button, new() { Name = "Create and copy" }).ClickAsync();

        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New token for Bob Modeler" });
        await Expect(secretDialog).ToBeVisibleAsync();
        await Expect(secretDialog).ToContainTextAsync("will not be shown again");
        var token = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        Assert.Matches(TokenShape(), token);
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.Locator("#copy-status")).ToHaveTextAsync(new Regex("Copied to the clipboard|press Ctrl\\+C"));

        using var api = server.ApiClient(token);
        var who = await (await api.GetAsync("/api/auth/me")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("bob@example.com", who.GetProperty("email").GetString());
        Assert.Equal("modeler", who.GetProperty("role").GetString());

        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(bob.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" })).ToBeFocusedAsync();

        // Change Bob's role from the same menu; the token follows the role at once.
        await bob.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Change role…" }).ClickAsync();
        var roleDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Change the role of bob@example.com" });
        await roleDialog.GetByLabel("Role").SelectOptionAsync("user");
        await roleDialog.GetByRole(AriaRole.Button, new() { Name = "Save" }).ClickAsync();
        await Expect(bob.Locator("td").Nth(2)).ToHaveTextAsync("user");
        Assert.Equal("user", (await (await api.GetAsync("/api/auth/me")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());

        await Expect(page.Locator("#tokens-body tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#tokens-inactive-body tr")).ToHaveCountAsync(1);
        await Expect(page.Locator("#tokens-body tr", new() { HasText = "dbt Cloud webhook" })).ToContainTextAsync("via header");
        await page.Locator("#users-status").EvaluateAsync("e => e.textContent = ''");
        await SaveScreenshotAsync(page);
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task NonAdminSeesNoUserListAndGets403FromUsersWithTheirSession()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("admin@example.com", Role.Admin, Password);
        await server.CreateUserAsync("mo@example.com", Role.Modeler, Password);
        var (page, problems) = await OpenAsync(context, server);

        await SignInAsync(page, "mo@example.com");

        await Expect(page.Locator("#tokens-status")).ToContainTextAsync("no tokens yet");
        await Expect(page.Locator("#users-section")).ToBeHiddenAsync();
        await Expect(page.GetByText("admin@example.com")).ToHaveCountAsync(0);
        var status = await page.EvaluateAsync<int>("async () => (await fetch('/api/users')).status");
        Assert.Equal(403, status);
        var method = await page.EvaluateAsync<string>("async () => (await (await fetch('/api/auth/me')).json()).auth.method");
        Assert.Equal("cookie", method);
        Assert.Empty(problems);
    }

    [SkippableTheory]
    [InlineData("127.0.0.1")] // another origin on the same site: the cookies go along, the anti-forgery token does not
    [InlineData("localhost")] // another site: SameSite=Strict keeps the cookies home
    public async Task CrossSiteFormPostCannotCreateAToken(string attackerHost)
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("ada@example.com", Role.Admin, Password);
        var (page, _) = await OpenAsync(context, server);
        await SignInAsync(page, "ada@example.com");
        await Expect(page.Locator("#tokens-status")).ToContainTextAsync("no tokens yet");
        await using var attacker = await AttackerSite.StartAsync(server.Url("/api/tokens"));

        var response = await page.RunAndWaitForResponseAsync(
            () => page.GotoAsync(attacker.Url(attackerHost)),
            r => r.Request.Method == "POST" && r.Url.EndsWith("/api/tokens", StringComparison.Ordinal));

        var sentCookies = (await response.Request.AllHeadersAsync()).GetValueOrDefault("cookie") ?? string.Empty;
        if (attackerHost == "localhost")
        {
            // Cross-site: the browser keeps the SameSite=Strict session home, so the post is anonymous and fails
            // (routing answers 415 to a form body before authorization; either way nothing is created).
            Assert.DoesNotContain("dot_session=", sentCookies, StringComparison.Ordinal);
            Assert.InRange(response.Status, 400, 499);
        }
        else
        {
            // Same site, other origin: the session cookie goes along, and the missing anti-forgery token stops it.
            Assert.Contains("dot_session=", sentCookies, StringComparison.Ordinal);
            Assert.Equal(403, response.Status);
            Assert.Equal("antiforgery_token_invalid", (await response.JsonAsync())?.GetProperty("reason").GetString());
        }

        // Nothing was created, and the session is still there.
        await page.GotoAsync(server.Url("/settings/users"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API tokens" })).ToBeVisibleAsync();
        await Expect(page.Locator("#tokens-status")).ToContainTextAsync("no tokens yet");
        Assert.Equal(0, await page.EvaluateAsync<int>("async () => (await (await fetch('/api/tokens')).json()).items.length"));
    }

    [SkippableFact]
    public async Task PageIsServedWithAStrictContentSecurityPolicyAndBreaksNoneOfIt()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("ada@example.com", Role.Admin, Password);
        var page = await context.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                violations.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(server.Url("/settings/users"));

        Assert.NotNull(response);
        var headers = await response.AllHeadersAsync();
        Assert.Equal(ContentSecurityPolicy, headers["content-security-policy"]);
        Assert.Equal("nosniff", headers["x-content-type-options"]);
        Assert.Equal("no-referrer", headers["referrer-policy"]);
        await SignInAsync(page, "ada@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        Assert.Empty(violations);
    }

    [SkippableFact]
    public async Task DialogsAndMenusWorkFromTheKeyboard()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("admin@example.com", Role.Admin, Password);
        await server.CreateUserAsync("bob@example.com", Role.User);
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "admin@example.com");

        var create = page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" });
        await create.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" })).ToBeVisibleAsync();
        await Expect(page.Locator("#token-name")).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" })).ToBeHiddenAsync();
        await Expect(create).ToBeFocusedAsync();

        var actions = page.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" });
        await Expect(actions).ToHaveAttributeAsync("aria-expanded", "false");
        await actions.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(actions).ToHaveAttributeAsync("aria-expanded", "true");
        await Expect(page.GetByRole(AriaRole.Menuitem, new() { Name = "Copy API Token" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("ArrowDown");
        await Expect(page.GetByRole(AriaRole.Menuitem, new() { Name = "Change role…" })).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(page.GetByRole(AriaRole.Menu)).ToBeHiddenAsync();
        await Expect(actions).ToBeFocusedAsync();
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task AnEndedSessionSendsYouBackToSignIn()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var ada = await server.CreateUserAsync("ada@example.com", Role.User, Password);
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "ada@example.com");
        await Expect(page.Locator("#tokens-status")).ToContainTextAsync("no tokens yet");

        await server.SetDisabledAsync(ada.Id, disabled: true);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        await page.Locator("#token-name").FillAsync("too late");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();

        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await Expect(page.Locator("#signin-notice")).ToContainTextAsync("Your session has ended");
        await Expect(page.Locator("#app-view")).ToBeHiddenAsync();
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task WrongPasswordIsRefusedOnTheForm()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("ada@example.com", Role.User, Password);
        var (page, problems) = await OpenAsync(context, server);

        var signIn = page.Locator("#signin-view");
        await signIn.GetByLabel("Email").FillAsync("ada@example.com");
        await signIn.GetByLabel("Password").FillAsync("not the password");
        await signIn.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        await Expect(signIn.GetByRole(AriaRole.Alert)).ToContainTextAsync("Wrong email or password.");
        await Expect(signIn.GetByLabel("Password")).ToBeFocusedAsync();
        await Expect(page.Locator("#app-view")).ToBeHiddenAsync();
        Assert.Empty(problems);
    }

    /// <summary>Opens the page and collects uncaught script errors and CSP violations, which every test expects none of.</summary>
    private static async Task<(IPage Page, List<string> Problems)> OpenAsync(IBrowserContext context, DotServer server)
    {
        var page = await context.NewPageAsync();
        var problems = new List<string>();
        page.PageError += (_, error) => problems.Add(error);
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add(message.Text);
            }
        };
        await page.GotoAsync(server.Url("/settings/users"));
        return (page, problems);
    }

    private static async Task SignInAsync(IPage page, string email)
    {
        var signIn = page.Locator("#signin-view");
        await Expect(signIn.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await signIn.GetByLabel("Email").FillAsync(email);
        await signIn.GetByLabel("Password").FillAsync(Password);
        await signIn.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "API tokens" })).ToBeVisibleAsync();
    }

    /// <summary>
    /// The page as an admin sees it. Saved beside the test binaries; with DOT_UPDATE_SCREENSHOT=1 also to
    /// docs/settings-users.png, the picture in docs/web.md (so a normal run leaves the work tree clean).
    /// </summary>
    private static async Task SaveScreenshotAsync(IPage page)
    {
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "settings-users.png"), bytes);
        if (Environment.GetEnvironmentVariable("DOT_UPDATE_SCREENSHOT") == "1")
        {
            var root = new DirectoryInfo(AppContext.BaseDirectory);
            while (root is not null && !File.Exists(Path.Combine(root.FullName, "Dot.Api.sln")))
            {
                root = root.Parent;
            }

            Assert.NotNull(root);
            Directory.CreateDirectory(Path.Combine(root.FullName, "docs"));
            await File.WriteAllBytesAsync(Path.Combine(root.FullName, "docs", "settings-users.png"), bytes);
        }
    }
}
