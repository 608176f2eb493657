namespace Dot.Api.Infrastructure;

/// <summary>
/// Where the server finds <c>appsettings.json</c> and <c>wwwroot</c>: beside <c>Dot.Api.dll</c>
/// (<see cref="AppContext.BaseDirectory"/>), not the working directory, so a published server started from
/// anywhere serves its page. An operator's choice wins: <c>--contentRoot</c>, or the environment variable
/// <c>ASPNETCORE_CONTENTROOT</c> or <c>DOTNET_CONTENTROOT</c>. (SQLite's relative <c>Data Source</c> is not
/// affected: it stays relative to the working directory.)
/// </summary>
internal static class ContentRoot
{
    public static WebApplicationOptions BuilderOptions(string[] args)
        => new() { Args = args, ContentRootPath = IsGiven(args) ? null : AppContext.BaseDirectory };

    /// <summary>Whether the host will find a content root of the operator's in its own configuration sources.</summary>
    internal static bool IsGiven(string[] args)
        => !string.IsNullOrEmpty(new ConfigurationBuilder()
            .AddEnvironmentVariables("DOTNET_")
            .AddEnvironmentVariables("ASPNETCORE_")
            .AddCommandLine(args)
            .Build()[WebHostDefaults.ContentRootKey]);
}
