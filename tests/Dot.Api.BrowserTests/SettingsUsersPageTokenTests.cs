using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dot.Api.Access;
using Dot.Api.BrowserTests.Infrastructure;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dot.Api.BrowserTests;

/// <summary>The page does the whole job: rotate, the inactive section, an admin on another user's tokens, Copy API Token, a phone's width.</summary>
public sealed partial class SettingsUsersPageTests
{
    [SkippableFact]
    public async Task RotateWithAnHourOfGraceKeepsBothSecretsAndWithNoneStopsTheOld()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var ada = await server.CreateUserAsync("ada@example.com", Role.User, Password, "Ada");
        var (deploy, deployId) = await server.CreateTokenAsync(ada.Id, "deploy", "Production deploys", days: 30);
        var (backup, backupId) = await server.CreateTokenAsync(ada.Id, "backup", null, days: 5);
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "ada@example.com");

        // Relative times with the local time as the tooltip, and a mark on the token that expires within 7 days.
        var deployRow = page.Locator($"#tokens-body tr[data-token-id='{deployId}']");
        var backupRow = page.Locator($"#tokens-body tr[data-token-id='{backupId}']");
        await Expect(deployRow.Locator("td").Nth(4)).ToHaveTextAsync(new Regex("^in (30|29) days$"));
        await Expect(deployRow.Locator("td").Nth(4).Locator("time")).ToHaveAttributeAsync("title", new Regex("\\d{4}"));
        await Expect(deployRow.Locator("td").Nth(3)).ToHaveTextAsync("now");
        await Expect(backupRow.Locator("td").Nth(4)).ToContainTextAsync("expires soon");
        await Expect(deployRow.Locator("td").Nth(4)).Not.ToContainTextAsync("expires soon");

        // Rotate "deploy" with 1 hour of grace: a new secret, shown once, and both work.
        await deployRow.GetByRole(AriaRole.Button, new() { Name = "Rotate token deploy" }).ClickAsync();
        var rotate = page.GetByRole(AriaRole.Dialog, new() { Name = "Rotate \"deploy\"?" });
        await Expect(rotate).ToBeVisibleAsync();
        await rotate.GetByLabel("Old secret keeps working for").SelectOptionAsync(new SelectOptionValue { Label = "1 hour" });
        await rotate.GetByRole(AriaRole.Button, new() { Name = "Rotate token" }).ClickAsync();
        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new token" });
        await Expect(secretDialog).ToBeVisibleAsync();
        await Expect(secretDialog).ToContainTextAsync("It will not be shown again");
        await Expect(secretDialog).ToContainTextAsync("The old secret works until");
        var fresh = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        Assert.Matches(TokenShape(), fresh);
        Assert.NotEqual(deploy, fresh);
        await Expect(page.Locator("#copy-secret")).ToBeFocusedAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        Assert.Equal(HttpStatusCode.OK, await StatusOfMeAsync(server, deploy));
        Assert.Equal(HttpStatusCode.OK, await StatusOfMeAsync(server, fresh));
        await Expect(deployRow.Locator("td").Nth(6)).ToContainTextAsync("rotating");
        await Expect(deployRow.Locator("td").Nth(6)).ToContainTextAsync("old secret works until");
        await Expect(deployRow.GetByRole(AriaRole.Button, new() { Name = "Rotate token deploy" })).ToHaveCountAsync(0);
        await Expect(deployRow.GetByRole(AriaRole.Button, new() { Name = "Revoke token deploy" })).ToBeVisibleAsync();
        await Expect(page.Locator("#tokens-body tr", new() { HasText = "deploy" })).ToHaveCountAsync(2);
        await Expect(page.Locator("#tokens-status")).ToContainTextAsync("Token \"deploy\" rotated. The old secret works until");

        // The rotating row's Expires column says when the old secret stops: the end of its grace.
        await Expect(deployRow.Locator("td").Nth(4)).ToContainTextAsync(new Regex("in (60|59) minutes"));
        await Expect(deployRow.Locator("td").Nth(4)).ToContainTextAsync("end of the rotation grace");

        // Revoking the successor ends the family: the confirmation says so, and the old secret stops too (API.md §2).
        var successorRow = page.Locator($"#tokens-body tr:not([data-token-id='{deployId}'])", new() { HasText = "deploy" });
        await successorRow.GetByRole(AriaRole.Button, new() { Name = "Revoke token deploy" }).ClickAsync();
        var confirmFamily = page.GetByRole(AriaRole.Alertdialog, new() { Name = "Revoke this token?" });
        await Expect(confirmFamily).ToContainTextAsync("still in grace, stops at once too");
        await confirmFamily.GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(page.Locator("#tokens-body tr", new() { HasText = "deploy" })).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfMeAsync(server, deploy));
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfMeAsync(server, fresh));

        // Rotate "backup" with no grace: the old secret is refused at once and moves to the inactive section.
        await backupRow.GetByRole(AriaRole.Button, new() { Name = "Rotate token backup" }).ClickAsync();
        rotate = page.GetByRole(AriaRole.Dialog, new() { Name = "Rotate \"backup\"?" });
        await rotate.GetByLabel("Old secret keeps working for").SelectOptionAsync("0");
        await rotate.GetByRole(AriaRole.Button, new() { Name = "Rotate token" }).ClickAsync();
        await Expect(secretDialog).ToBeVisibleAsync();
        await Expect(secretDialog).ToContainTextAsync("The old secret has stopped working");
        var freshBackup = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfMeAsync(server, backup));
        Assert.Equal(HttpStatusCode.OK, await StatusOfMeAsync(server, freshBackup));
        await Expect(backupRow).ToHaveCountAsync(0);
        await Expect(page.Locator($"#tokens-inactive-body tr[data-token-id='{backupId}'] td").Nth(6)).ToHaveTextAsync("revoked");
        await Expect(page.Locator("#tokens-inactive")).ToHaveJSPropertyAsync("open", false);
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task AdminSeesAndRevokesAnotherUsersTokensAndSetsTheirPassword()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("admin@example.com", Role.Admin, Password, "Grace Admin");
        var bob = await server.CreateUserAsync("bob@example.com", Role.Modeler, name: "Bob Modeler");
        await server.CreateUserAsync("carol@example.com", Role.User, Password, "Carol User");
        var (laptop, laptopId) = await server.CreateTokenAsync(bob.Id, "bob laptop", null, days: 30);
        var (ci, ciId) = await server.CreateTokenAsync(bob.Id, "bob ci", null, days: 90);
        await server.CreateTokenAsync(bob.Id, "bob old", null, days: 30, revoked: true);
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "admin@example.com");

        var users = page.Locator("#users-section");
        var bobRow = users.Locator("tbody tr", new() { HasText = "bob@example.com" });
        await Expect(bobRow.Locator("td").Nth(4)).ToHaveTextAsync("none");
        await Expect(users.Locator("tbody tr", new() { HasText = "carol@example.com" }).Locator("td").Nth(4)).ToHaveTextAsync("set");

        await bobRow.GetByRole(AriaRole.Button, new() { Name = "Tokens of bob@example.com" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Tokens of bob@example.com" });
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator(".tokens-active-body tr")).ToHaveCountAsync(2);
        await Expect(dialog.Locator(".tokens-inactive summary")).ToHaveTextAsync("Revoked and expired tokens (1)");
        await Expect(dialog.Locator(".tokens-inactive")).ToHaveJSPropertyAsync("open", false);

        // Revoke one of Bob's: it answers 401 from then on; the other still works.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Revoke token bob laptop" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Alertdialog, new() { Name = "Revoke this token?" });
        await Expect(confirm).ToContainTextAsync("bob@example.com");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Revoke", Exact = true }).ClickAsync();
        await Expect(confirm).ToBeHiddenAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.Locator(".tokens-status")).ToHaveTextAsync("Token \"bob laptop\" revoked.");
        await Expect(dialog.Locator($".tokens-inactive-body tr[data-token-id='{laptopId}']")).ToHaveCountAsync(1);
        await Expect(page.Locator("#user-tokens-title")).ToBeFocusedAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfMeAsync(server, laptop));
        Assert.Equal(HttpStatusCode.OK, await StatusOfMeAsync(server, ci));

        // Rotate one of Bob's, without grace: the secret is for Bob, and the old one stops.
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Rotate token bob ci" }).ClickAsync();
        var rotate = page.GetByRole(AriaRole.Dialog, new() { Name = "Rotate \"bob ci\"?" });
        await rotate.GetByRole(AriaRole.Button, new() { Name = "Rotate token" }).ClickAsync();
        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New token for Bob Modeler" });
        await Expect(secretDialog).ToContainTextAsync("will not be shown again");
        var fresh = await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync();
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, await StatusOfMeAsync(server, ci));
        using (var api = server.ApiClient(fresh))
        {
            Assert.Equal("bob@example.com", (await (await api.GetAsync("/api/auth/me")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("email").GetString());
        }

        await Expect(dialog.Locator($".tokens-inactive-body tr[data-token-id='{ciId}']")).ToHaveCountAsync(1);
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#tokens-body tr")).ToHaveCountAsync(0); // the admin's own list is the admin's

        // Set Bob's password: the users table says so.
        await bobRow.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Set password…" }).ClickAsync();
        var password = page.GetByRole(AriaRole.Dialog, new() { Name = "Set a password for bob@example.com" });
        await password.GetByLabel("New password").FillAsync("short");
        await password.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(password.GetByRole(AriaRole.Alert)).ToContainTextAsync("at least 8 characters");
        await password.GetByLabel("New password").FillAsync("bob's own passphrase");
        await password.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(password).ToBeHiddenAsync();
        await Expect(bobRow.Locator("td").Nth(4)).ToHaveTextAsync("set");
        await Expect(page.Locator("#users-status")).ToContainTextAsync("The password of bob@example.com is set");

        await using var bobContext = await browser.NewContextAsync();
        var (bobPage, _) = await OpenAsync(bobContext, server);
        var signIn = bobPage.Locator("#signin-view");
        await signIn.GetByLabel("Email").FillAsync("bob@example.com");
        await signIn.GetByLabel("Password").FillAsync("bob's own passphrase");
        await signIn.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(bobPage.Locator("#whoami-text")).ToContainTextAsync("bob@example.com · modeler");
        Assert.Empty(problems);
    }

    [SkippableFact]
    public async Task CopyApiTokenAsksNameAndExpiryAndCopiesAWorkingToken()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        await server.CreateUserAsync("admin@example.com", Role.Admin, Password, "Grace Admin");
        await server.CreateUserAsync("bob@example.com", Role.Modeler, name: "Bob Modeler");
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = server.BaseAddress.GetLeftPart(UriPartial.Authority) });
        var (page, problems) = await OpenAsync(context, server);
        await SignInAsync(page, "admin@example.com");

        var bobRow = page.Locator("#users-body tr", new() { HasText = "bob@example.com" });
        await bobRow.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Copy API Token" }).ClickAsync();
        var form = page.GetByRole(AriaRole.Dialog, new() { Name = "Copy API Token" });
        await Expect(form).ToContainTextAsync("bob@example.com");
        await form.GetByLabel("Name").FillAsync("Bob's notebook");
        await form.GetByLabel("Expiration").SelectOptionAsync(new SelectOptionValue { Label = "7 days" });
        await form.GetByRole(AriaRole.Button, new() { Name = "Create and copy" }).ClickAsync();

        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "New token for Bob Modeler" });
        await Expect(secretDialog).ToContainTextAsync("will not be shown again");
        await Expect(page.Locator("#copy-status")).ToHaveTextAsync("Copied to the clipboard.");
        var copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
        Assert.Matches(TokenShape(), copied);
        Assert.Equal(copied, await secretDialog.GetByLabel("Token", new() { Exact = true }).InputValueAsync());
        using (var api = server.ApiClient(copied))
        {
            var who = await (await api.GetAsync("/api/auth/me")).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("bob@example.com", who.GetProperty("email").GetString());
            var expiresAt = who.GetProperty("auth").GetProperty("expires_at").GetDateTime().ToUniversalTime();
            Assert.InRange(expiresAt, DateTime.UtcNow.AddDays(7).AddMinutes(-5), DateTime.UtcNow.AddDays(7).AddMinutes(5));
        }

        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(page.Locator("#secret-value")).ToHaveValueAsync(string.Empty);

        // The same name again is refused, in the form's words; so is a date beyond what the server allows.
        await bobRow.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Copy API Token" }).ClickAsync();
        await form.GetByLabel("Name").FillAsync("BOB'S NOTEBOOK");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create and copy" }).ClickAsync();
        await Expect(form.GetByRole(AriaRole.Alert)).ToContainTextAsync("bob@example.com already has an active token named \"BOB'S NOTEBOOK\"");
        await Expect(form.GetByLabel("Name")).ToHaveAttributeAsync("aria-invalid", "true");

        await form.GetByLabel("Name").FillAsync("Far future");
        await form.GetByLabel("Expiration").SelectOptionAsync("date");
        await form.GetByLabel("Expires on").FillAsync("2099-01-01");
        await form.GetByRole(AriaRole.Button, new() { Name = "Create and copy" }).ClickAsync();
        await Expect(form.GetByRole(AriaRole.Alert)).ToContainTextAsync("Expiration must be within 3650 days.");
        await Expect(form.GetByRole(AriaRole.Alert)).Not.ToContainTextAsync("expires_at");
        Assert.Empty(problems);
    }

    [SkippableTheory]
    [InlineData(Role.Admin)]
    [InlineData(Role.User)]
    public async Task AtAPhonesWidthNothingScrollsSidewaysAndEveryActionIsReachable(Role role)
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var me = await server.CreateUserAsync("someone.with.a.long.address@example.com", role, Password, "Someone With A Long Name");
        await server.CreateUserAsync("bob@example.com", Role.User, name: "Bob");
        await server.CreateTokenAsync(me.Id, "dbt Cloud webhook for the nightly production run", "Triggers a sync after each dbt run in the production project", days: 5);
        await server.CreateTokenAsync(me.Id, "Old laptop", null, days: 30, revoked: true);
        var (page, problems) = await OpenAsync(context, server);
        await page.SetViewportSizeAsync(390, 844);
        await SignInAsync(page, me.Email);
        await Expect(page.Locator("#tokens-body tr")).ToHaveCountAsync(1);
        await AssertNoSidewaysScrollAsync(page);

        await page.Locator("#tokens-inactive summary").ClickAsync();
        await Expect(page.Locator("#tokens-inactive-body tr")).ToBeVisibleAsync();
        await AssertNoSidewaysScrollAsync(page);
        await AssertInViewportAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Rotate token dbt Cloud webhook for the nightly production run" }));
        await AssertInViewportAsync(page, page.GetByRole(AriaRole.Button, new() { Name = "Revoke token dbt Cloud webhook for the nightly production run" }));

        // The create dialog fits and works; so does the secret it shows.
        await page.GetByRole(AriaRole.Button, new() { Name = "Create New Token" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Create New Token" });
        await Expect(dialog).ToBeVisibleAsync();
        await AssertInViewportAsync(page, dialog);
        await dialog.GetByLabel("Name").FillAsync("phone");
        await AssertInViewportAsync(page, dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }));
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var secretDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Your new token" });
        await Expect(secretDialog).ToBeVisibleAsync();
        await AssertInViewportAsync(page, secretDialog.GetByRole(AriaRole.Button, new() { Name = "Copy" }));
        await AssertInViewportAsync(page, secretDialog.GetByLabel("Token", new() { Exact = true }));
        await secretDialog.GetByRole(AriaRole.Button, new() { Name = "Done" }).ClickAsync();
        await Expect(page.Locator("#tokens-body tr")).ToHaveCountAsync(2);
        await AssertNoSidewaysScrollAsync(page);
        await page.ScreenshotAsync(new() { FullPage = true, Path = Path.Combine(AppContext.BaseDirectory, $"settings-users-390-{role.ToString().ToLowerInvariant()}.png") });

        if (role == Role.Admin)
        {
            var actions = page.GetByRole(AriaRole.Button, new() { Name = "Actions for bob@example.com" });
            await actions.ScrollIntoViewIfNeededAsync();
            await actions.ClickAsync();
            var menu = page.GetByRole(AriaRole.Menu, new() { Name = "Actions for bob@example.com" });
            await Expect(menu).ToBeVisibleAsync();
            await AssertInViewportAsync(page, menu);
            await AssertNoSidewaysScrollAsync(page);
            await page.GetByRole(AriaRole.Menuitem, new() { Name = "Change role…" }).ClickAsync();
            var roleDialog = page.GetByRole(AriaRole.Dialog, new() { Name = "Change the role of bob@example.com" });
            await Expect(roleDialog).ToBeVisibleAsync();
            await AssertInViewportAsync(page, roleDialog);
            await page.Keyboard.PressAsync("Escape");

            await page.GetByRole(AriaRole.Button, new() { Name = "Tokens of bob@example.com" }).ClickAsync();
            var tokens = page.GetByRole(AriaRole.Dialog, new() { Name = "Tokens of bob@example.com" });
            await Expect(tokens).ToContainTextAsync("bob@example.com has no tokens yet.");
            await AssertInViewportAsync(page, tokens);
        }
        else
        {
            await Expect(page.Locator("#users-section")).ToBeHiddenAsync();
        }

        Assert.Empty(problems);
    }

    private static async Task<HttpStatusCode> StatusOfMeAsync(DotServer server, string token)
    {
        using var api = server.ApiClient(token);
        return (await api.GetAsync("/api/auth/me")).StatusCode;
    }

    private static async Task AssertNoSidewaysScrollAsync(IPage page)
    {
        var (scrollWidth, innerWidth) = (await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"),
            await page.EvaluateAsync<int>("() => window.innerWidth"));
        Assert.True(scrollWidth <= innerWidth, $"The page is {scrollWidth} px wide in a {innerWidth} px window.");
    }

    /// <summary>The element is visible and lies within the window's width (sideways; it may need a vertical scroll).</summary>
    private static async Task AssertInViewportAsync(IPage page, ILocator locator)
    {
        await Expect(locator).ToBeVisibleAsync();
        var box = await locator.BoundingBoxAsync();
        Assert.NotNull(box);
        var width = await page.EvaluateAsync<int>("() => window.innerWidth");
        Assert.True(box.X >= 0 && box.X + box.Width <= width + 0.5, $"The element spans x {box.X}–{box.X + box.Width} in a {width} px window.");
    }
}
