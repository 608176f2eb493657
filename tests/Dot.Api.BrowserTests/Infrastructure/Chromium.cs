using Microsoft.Playwright;

namespace Dot.Api.BrowserTests.Infrastructure;

/// <summary>
/// Debian's Chromium (<c>apt-get install -y chromium</c>), driven by Playwright. Playwright's own browser
/// download is never used: it cannot work on a machine without internet.
/// </summary>
public static class Chromium
{
    public const string DefaultPath = "/usr/bin/chromium";

    /// <summary><c>DOT_CHROMIUM</c> overrides the path, for a machine where Chromium lives elsewhere.</summary>
    public static string ExecutablePath
        => Environment.GetEnvironmentVariable("DOT_CHROMIUM") is { Length: > 0 } path ? path : DefaultPath;

    public static BrowserTypeLaunchOptions LaunchOptions => new()
    {
        ExecutablePath = ExecutablePath,
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"],
    };

    /// <summary>
    /// Without Chromium the test is reported as skipped, saying why — except when <c>CI=true</c>, where a
    /// missing browser is a broken machine and the test fails.
    /// </summary>
    public static void RequireInstalled()
    {
        if (File.Exists(ExecutablePath))
        {
            return;
        }

        var reason = $"Chromium is not installed at {ExecutablePath}: run 'apt-get install -y chromium' (or set DOT_CHROMIUM).";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"{reason} CI=true, so the browser tests must run, not be skipped.");
        }

        Skip.If(true, reason);
    }
}
