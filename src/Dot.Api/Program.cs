using Dot.Api.Authentication;
using Dot.Api.Cli;
using Dot.Api.Data;
using Dot.Api.Health;
using Dot.Api.Infrastructure;
using Dot.Api.Logging;
using Dot.Api.Sessions;
using Dot.Api.Swagger;
using Dot.Api.Tokens;
using Dot.Api.Users;
using Dot.Api.Web;

// `dot-api users …`, `dot-api tokens …`: an admin command against the same database; anything else serves.
var command = CliArguments.IsCommand(args) ? CliHost.ParseOrExit(args) : null;
var builder = WebApplication.CreateBuilder(command is null ? args.SkipWhile(a => a == "serve").ToArray() : []);
if (command is not null)
{
    builder.Logging.ForCommandLine();
}

builder.Logging.RedactSecrets();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddDotErrorHandling();
builder.Services.AddDotData(builder.Configuration);
builder.Services.AddUsers();
builder.Services.AddTokens(builder.Configuration);
builder.Services.AddAuthentication(SessionDefaults.SelectorScheme).AddApiToken().AddSessionCookie();
builder.Services.AddSessions(builder.Configuration);
builder.Services.AddDotAuthorization();
builder.Services.AddDotSwagger();

var app = builder.Build();
await app.Services.MigrateDotDatabaseAsync();
if (command is not null)
{
    return await CliHost.RunAsync(command, app.Services);
}

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseDotSwagger();
app.UseSettingsPageAssets();
app.UseAuthentication();
app.UseSessionAntiforgery();
app.UseAuthorization();

app.MapHealth();
app.MapAuth();
app.MapTokens();
app.MapUsers();
app.MapSessions();
app.MapSettingsPage();
app.MapContributedEndpoints();

await app.RunAsync();
return 0;

/// <summary>The entry point, visible to the tests' <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
