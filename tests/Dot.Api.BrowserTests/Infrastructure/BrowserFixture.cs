using Microsoft.Playwright;

namespace Dot.Api.BrowserTests.Infrastructure;

/// <summary>One Chromium for the whole run, launched on first use; each test gets its own context (cookies, storage).</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private readonly Lock _lock = new();
    private IPlaywright? _playwright;
    private Task<IBrowser>? _browser;

    /// <summary>A fresh browser context; skips (or, on CI, fails) the test when Chromium is missing.</summary>
    public async Task<IBrowserContext> NewContextAsync()
    {
        Chromium.RequireInstalled();
        Task<IBrowser> launch;
        lock (_lock)
        {
            launch = _browser ??= LaunchAsync();
        }

        var browser = await launch;
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(15_000);
        return context;
    }

    private async Task<IBrowser> LaunchAsync()
    {
        // The machine is shared and small: give assertions the same patience as actions (default 5 s).
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        return await _playwright.Chromium.LaunchAsync(Chromium.LaunchOptions);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_browser is { IsCompletedSuccessfully: true })
        {
            await (await _browser).CloseAsync();
        }

        _playwright?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserTestGroup : ICollectionFixture<BrowserFixture>
{
    /// <summary>Browser tests run one after another: the machine is small and each starts a server.</summary>
    public const string Name = "browser";
}
