using Dot.Api.Access;
using Dot.Api.BrowserTests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dot.Api.BrowserTests;

/// <summary>Swagger UI in a real browser, under its Content-Security-Policy: Authorize with a token, then Try it out on /api/auth/me.</summary>
[Collection(BrowserTestGroup.Name)]
public sealed class SwaggerUiTests(BrowserFixture browser)
{
    [SkippableFact]
    public async Task AuthorizeThenTryItOutOnAuthMeWorks()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var user = await server.CreateUserAsync("swagger@example.com", Role.Modeler);
        string token;
        await using (var scope = server.Services.CreateAsyncScope())
        {
            token = ((MintResult.Minted)await scope.ServiceProvider.GetRequiredService<TokenService>()
                .TryCreateAsync(minter: null, user.Id, "swagger", null, null, TokenRestrictions.None, CancellationToken.None)).Plaintext;
        }

        var page = await context.NewPageAsync();
        var refused = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (refused)
                {
                    refused.Add($"{message.Text} at {message.Location}");
                }
            }
        };
        var loaded = await page.GotoAsync(server.Url("/swagger/index.html"));
        Assert.Contains("frame-ancestors 'none'", (await loaded!.HeaderValueAsync("Content-Security-Policy")) ?? string.Empty, StringComparison.Ordinal);

        // Authorize: the API-KEY header scheme.
        await page.Locator("button.authorize").First.ClickAsync();
        var modal = page.Locator(".modal-ux");
        await Expect(modal).ToBeVisibleAsync();
        var headerScheme = modal.Locator(".auth-container").Filter(new() { HasText = "ApiKeyHeader" });
        await headerScheme.Locator("input").FillAsync(token);
        await headerScheme.Locator("button.authorize").ClickAsync();
        await Expect(headerScheme).ToContainTextAsync("Authorized");
        await modal.Locator("button.btn-done").First.ClickAsync();

        // Try it out on GET /api/auth/me.
        var operation = page.Locator("#operations-Authentication-GetMe");
        await operation.Locator(".opblock-summary").ClickAsync();
        await operation.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await operation.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();

        var live = operation.Locator(".live-responses-table");
        await Expect(live.Locator("tbody .response-col_status").First).ToContainTextAsync("200", new() { Timeout = 15_000 });
        await Expect(live).ToContainTextAsync("swagger@example.com");
        await Expect(live).ToContainTextAsync("\"method\": \"header\"");

        // All of that under the page's Content-Security-Policy, which refused nothing it needed.
        lock (refused)
        {
            Assert.True(refused.Count == 0, string.Join('\n', refused));
        }

        // And the token was kept in memory only: nothing in the browser's storage.
        Assert.DoesNotContain(token, await page.EvaluateAsync<string>("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task TheQuerySchemeIsOfferedOnlyOnTheWebhookRoutes()
    {
        await using var context = await browser.NewContextAsync();
        await using var server = DotServer.Start();
        var page = await context.NewPageAsync();
        await page.GotoAsync(server.Url("/swagger/index.html"));

        // The Authorize dialog offers both schemes: the header for everything, the query pair for webhooks.
        await page.Locator("button.authorize").First.ClickAsync();
        var modal = page.Locator(".modal-ux");
        await Expect(modal.Locator(".auth-container").Filter(new() { HasText = "ApiKeyHeader" })).ToBeVisibleAsync();
        await Expect(modal.Locator(".auth-container").Filter(new() { HasText = "ApiTokenQuery" })).ToBeVisibleAsync();
        await Expect(modal.Locator(".auth-container").Filter(new() { HasText = "UserIdQuery" })).ToBeVisibleAsync();
    }
}
