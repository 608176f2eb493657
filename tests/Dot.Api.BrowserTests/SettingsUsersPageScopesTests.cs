using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dot.Api.Access;
using Dot.Api.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dot.Api.BrowserTests;

/// <summary>Token access on the page: the presets, custom scopes, allowed addresses, service accounts, and what the tokens then may do.</summary>
public sealed partial class SettingsUsersPageTests
{
    private static readonly string[] PhoneAddresses = ["2001:db8:1234:5678:9abc:def0:1234:5678/128", "203.0.113.0/24", "198.51.100.17"];

    [SkippableFact]
    public async Task AWebhookTokenForOneConnectionSyncsItAndNothingElse()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var admin = await server.CreateUserAsync("admin@example.com", Role.Admin, Password, "Grace Admin");
        await CreateConnectionAsync(server, admin.Id, "snowflake", "warehouse", "Warehouse");
        await CreateConnectionAsync(server, admin.Id, "postgres", "crm", "CRM");
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.BaseAddress.GetLeftPart(UriPartial.Authority) });
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "admin@example.com");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" });
        await dialog.GetByLabel("Name").FillAsync("dbt Cloud webhook");
        await Expect(dialog.GetByLabel("Connection", new() { Exact = true })).ToBeHiddenAsync();
        await dialog.GetByLabel("Access").SelectOptionAsync(new SelectOptionValue { Label = "Webhook: sync one connection" });
        var connection = dialog.GetByLabel("Connection", new() { Exact = true });
        await Expect(connection.Locator("option")).ToHaveCountAsync(2);
        await connection.SelectOptionAsync(new SelectOptionValue { Label = "Warehouse (snowflake/warehouse)" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();

        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new token" });
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Copy" }).ClickAsync();
        await Expect(page.Locator("#copy-status")).ToHaveTextAsync("Copied to the clipboard.");
        var token = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Matches(TokenShape(), token);
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        var row = page.Locator("#tokens-body tr", new() { HasText = "dbt Cloud webhook" });
        await Expect(row.Locator("td").Nth(7)).ToHaveTextAsync("sync:snowflake/warehouseany address");
        await Expect(row.Locator(".token-scopes")).ToHaveTextAsync("sync:snowflake/warehouse");
        await Expect(row.Locator(".token-ips")).ToHaveTextAsync("any address");

        using var api = server.ApiClient(token);
        var tokens = await api.GetAsync("/api/tokens");
        Assert.Equal(HttpStatusCode.Forbidden, tokens.StatusCode);
        Assert.Equal("insufficient_scope", (await tokens.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await api.PostAsync("/api/sync/postgres/crm", null)).StatusCode);
        var sync = await api.PostAsync("/api/sync/snowflake/warehouse", null);
        Assert.Equal(HttpStatusCode.Accepted, sync.StatusCode);
        Assert.Equal("warehouse", (await sync.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connection_id").GetString());
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task AReadHistoryTokenExportsHistoryAndIsRefusedElsewhere()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("mo@example.com", Role.Modeler, Password, "Mo Modeler");
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "mo@example.com");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" });
        // Only admins can list connections: a modeler is not offered the webhook preset.
        await Expect(dialog.Locator("#token-access option[value='webhook']")).ToBeDisabledAsync();
        await dialog.GetByLabel("Name").FillAsync("history export");
        await dialog.GetByLabel("Access").SelectOptionAsync(new SelectOptionValue { Label = "Read history" });
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new token" });
        var token = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        var row = page.Locator("#tokens-body tr", new() { HasText = "history export" });
        await Expect(row.Locator(".token-scopes")).ToHaveTextAsync("history");
        await Expect(row.Locator(".token-ips")).ToHaveTextAsync("any address");

        using var api = server.ApiClient(token);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/export_history")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/auth/me")).StatusCode);
        var refused = await api.GetAsync("/api/tokens");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("insufficient_scope", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());

        // A full-access token reads "full access".
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        await dialog.GetByLabel("Name").FillAsync("everything");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(page.Locator("#tokens-body tr", new() { HasText = "everything" }).Locator(".token-scopes")).ToHaveTextAsync("full access");
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task ACustomTokenKeepsItsScopesAndAllowedAddressesAndBadOnesAreShownAtTheirField()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("ada@example.com", Role.User, Password, "Ada");
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "ada@example.com");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" });
        await dialog.GetByLabel("Name").FillAsync("chat bot");
        await dialog.GetByLabel("Access").SelectOptionAsync("custom");
        var scopes = dialog.GetByRole(AriaRole.Group, new() { Name = "Scopes" });
        await Expect(scopes).ToBeVisibleAsync();
        await Expect(scopes.Locator("input[value='profile']")).ToBeCheckedAsync();
        await Expect(scopes.Locator("input[value='profile']")).ToBeDisabledAsync();

        // Nothing ticked: the form says so at the scopes.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Alert)).ToContainTextAsync("Tick at least one scope.");
        await Expect(scopes.Locator(".field-error")).ToHaveTextAsync("Access: Tick at least one scope.");

        // A bad address: the server's 422, in the form's words, next to the field.
        await scopes.Locator("input[value='chats']").CheckAsync();
        await scopes.Locator("input[value='tokens']").CheckAsync();
        var addresses = dialog.GetByLabel("Allowed addresses");
        await addresses.FillAsync("127.0.0.1, not-an-ip");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        await Expect(dialog.GetByRole(AriaRole.Alert)).ToContainTextAsync("Allowed addresses: 'not-an-ip' is not an IP address or CIDR range");
        await Expect(addresses).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(addresses).ToBeFocusedAsync();
        var note = dialog.Locator(".field-error");
        await Expect(note).ToHaveCountAsync(1);
        await Expect(note).ToContainTextAsync("'not-an-ip' is not an IP address");
        Assert.Contains(await note.GetAttributeAsync("id") ?? "?", await addresses.GetAttributeAsync("aria-describedby") ?? "");
        await Expect(dialog.GetByRole(AriaRole.Alert)).Not.ToContainTextAsync("allowed_ips");

        await addresses.FillAsync("127.0.0.1 ::1\n10.0.0.0/8");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new token" });
        var token = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        var row = page.Locator("#tokens-body tr", new() { HasText = "chat bot" });
        await Expect(row.Locator(".token-scopes")).ToHaveTextAsync("chats, tokens");
        await Expect(row.Locator(".token-ips")).ToContainTextAsync("127.0.0.1");
        await Expect(row.Locator(".token-ips")).ToContainTextAsync("10.0.0.0/8");
        await Expect(row.Locator(".token-ips")).ToContainTextAsync("::1");

        using (var api = server.ApiClient(token))
        {
            Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/tokens")).StatusCode); // tokens, from 127.0.0.1
            Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/api/export_history")).StatusCode);
        }

        // Allowed only from elsewhere: refused from here.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        await dialog.GetByLabel("Name").FillAsync("office only");
        await dialog.GetByLabel("Allowed addresses").FillAsync("203.0.113.0/24");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var office = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        var officeRow = page.Locator("#tokens-body tr", new() { HasText = "office only" });
        await Expect(officeRow.Locator(".token-scopes")).ToHaveTextAsync("full access");
        await Expect(officeRow.Locator(".token-ips")).ToHaveTextAsync("from 203.0.113.0/24");
        using (var api = server.ApiClient(office))
        {
            var refused = await api.GetAsync("/api/auth/me");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("ip_not_allowed", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        }

        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task AnAdminAddsAServiceAccountAndCreatesItsToken()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var admin = await server.CreateUserAsync("admin@example.com", Role.Admin, Password, "Grace Admin");
        await CreateConnectionAsync(server, admin.Id, "snowflake", "warehouse", "Warehouse");
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "admin@example.com");

        await page.GetByRole(AriaRole.Button, new() { Name = "Add service account" }).ClickAsync();
        var add = page.GetByRole(AriaRole.Dialog, new() { Name = "Add service account" });
        await Expect(add.GetByLabel("Password")).ToBeHiddenAsync();
        await add.GetByLabel("Handle").FillAsync("dbt-cloud@service.local");
        await add.GetByLabel("Name").FillAsync("dbt Cloud");
        await add.GetByLabel("Role").SelectOptionAsync("admin");
        await add.GetByRole(AriaRole.Button, new() { Name = "Add service account" }).ClickAsync();
        await Expect(add).ToBeHiddenAsync();

        var row = page.Locator("#users-body tr", new() { HasText = "dbt-cloud@service.local" });
        await Expect(row.Locator(".badge-service")).ToHaveTextAsync("service");
        await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync("not used");
        await row.GetByRole(AriaRole.Button, new() { Name = "Actions for dbt-cloud@service.local" }).ClickAsync();
        var menu = page.GetByRole(AriaRole.Menu, new() { Name = "Actions for dbt-cloud@service.local" });
        await Expect(menu.GetByRole(AriaRole.Menuitem, new() { Name = "Copy API Token" })).ToBeVisibleAsync();
        await Expect(menu.GetByText("password")).ToHaveCountAsync(0);
        await page.Keyboard.PressAsync("Escape");
        using (var admins = server.ApiClient((await server.CreateTokenAsync(admin.Id, "check")).Token))
        {
            var users = await (await admins.GetAsync("/api/users")).Content.ReadFromJsonAsync<JsonElement>();
            var service = users.GetProperty("items").EnumerateArray().Single(u => u.GetProperty("email").GetString() == "dbt-cloud@service.local");
            Assert.Equal("service", service.GetProperty("kind").GetString());
            Assert.False(service.GetProperty("has_password").GetBoolean());
        }

        // Its tokens: open the list, create one there, with the webhook preset and an allowed address.
        await row.GetByRole(AriaRole.Button, new() { Name = "Tokens of dbt-cloud@service.local" }).ClickAsync();
        var tokens = page.GetByRole(AriaRole.Dialog, new() { Name = "Tokens of dbt-cloud@service.local" });
        await Expect(tokens).ToContainTextAsync("no tokens yet");
        await tokens.GetByRole(AriaRole.Button, new() { Name = "Create a token for dbt-cloud@service.local" }).ClickAsync();
        var form = page.GetByRole(AriaRole.Dialog, new() { Name = "Copy API Token" });
        await Expect(form).ToContainTextAsync("service account");
        await form.GetByLabel("Name").FillAsync("dbt Cloud job 42");
        await form.GetByLabel("Access").SelectOptionAsync("webhook");
        await Expect(form.GetByLabel("Connection", new() { Exact = true })).ToHaveValueAsync("sync:snowflake/warehouse");
        await form.GetByLabel("Allowed addresses").FillAsync("127.0.0.0/8");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create and copy" }).ClickAsync();

        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New token for dbt Cloud" });
        await Expect(secretDialog).ToContainTextAsync("will not be shown again");
        var token = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        Assert.Matches(TokenShape(), token);
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        var tokenRow = tokens.Locator(".tokens-active-body tr", new() { HasText = "dbt Cloud job 42" });
        await Expect(tokenRow.Locator(".token-scopes")).ToHaveTextAsync("sync:snowflake/warehouse");
        await Expect(tokenRow.Locator(".token-ips")).ToHaveTextAsync("from 127.0.0.0/8");
        await Expect(page.Locator("#tokens-body tr", new() { HasText = "dbt Cloud job 42" })).ToHaveCountAsync(0); // not the admin's own

        using var api = server.ApiClient(token);
        var me = await (await api.GetAsync("/api/auth/me")).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("dbt-cloud@service.local", me.GetProperty("email").GetString());
        Assert.Equal(HttpStatusCode.Accepted, (await api.PostAsync("/api/sync/snowflake/warehouse", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.GetAsync("/api/users")).StatusCode);
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task AtAPhonesWidthATokenRowWithScopesAndAddressesDoesNotScrollSideways()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var admin = await server.CreateUserAsync("admin@example.com", Role.Admin, Password, "Grace Admin");
        const string longId = "nightly-production-warehouse-of-the-analytics-team-in-europe";
        await CreateConnectionAsync(server, admin.Id, "databricks", longId, "Nightly");
        using (var api = server.ApiClient((await server.CreateTokenAsync(admin.Id, "setup")).Token))
        {
            var created = await api.PostAsJsonAsync("/api/tokens", new
            {
                name = "dbt Cloud webhook for the nightly production run",
                expires_in_days = 30,
                scopes = new[] { $"sync:databricks/{longId}", "history", "assets", "connections" },
                allowed_ips = PhoneAddresses,
            });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var (page, problems) = await OpenAsync(context, server);
        await page.SetViewportSizeAsync(390, 844);
        await SignInAsync(page, "admin@example.com");
        var row = page.Locator("#tokens-body tr", new() { HasText = "dbt Cloud webhook" });
        await Expect(row.Locator(".token-scopes")).ToContainTextAsync($"sync:databricks/{longId}");
        await Expect(row.Locator(".token-ips")).ToContainTextAsync("203.0.113.0/24");
        await AssertNoSidewaysScrollAsync(page);
        await AssertInViewportAsync(page, row.Locator("td").Nth(7));
        await AssertInViewportAsync(page, row.GetByRole(AriaRole.Button, new() { Name = "Revoke token dbt Cloud webhook for the nightly production run" }));

        // The create dialog, with Custom's list of scopes open, fits too.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" });
        await dialog.GetByLabel("Access").SelectOptionAsync("custom");
        await AssertInViewportAsync(page, dialog.GetByRole(AriaRole.Group, new() { Name = "Scopes" }));
        await AssertInViewportAsync(page, dialog.GetByLabel("Allowed addresses"));
        await AssertNoSidewaysScrollAsync(page);
        await page.Keyboard.PressAsync("Escape");
        await page.ScreenshotAsync(new() { FullPage = true, Path = Path.Combine(AppContext.BaseDirectory, "settings-users-390-scopes.png") });
        Assert.Empty(problems);
    }

    /// <summary>A connection, created through the API with an admin's token minted by the product.</summary>
    private static async Task CreateConnectionAsync(DotServer server, Guid adminId, string type, string id, string name)
    {
        var (token, _) = await server.CreateTokenAsync(adminId, $"connection {type}/{id}");
        using var api = server.ApiClient(token);
        var created = await api.PostAsJsonAsync("/api/connections",
            new { type, id, name, settings = new { host = "db.example.com" }, secrets = new { password = "pw" } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
    }
}
