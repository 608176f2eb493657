using System.Globalization;
using Dot.Api.Assets;
using Dot.Api.Audit;
using Dot.Api.Authentication;
using Dot.Api.Catalog;
using Dot.Api.Cli;
using Dot.Api.Connections;
using Dot.Api.Connectors;
using Dot.Api.Data;
using Dot.Api.Data.Postgres;
using Dot.Api.Data.Sqlite;
using Dot.Api.Health;
using Dot.Api.History;
using Dot.Api.Infrastructure;
using Dot.Api.Logging;
using Dot.Api.Sessions;
using Dot.Api.Swagger;
using Dot.Api.Sync;
using Dot.Api.Tokens;
using Dot.Api.Users;
using Dot.Api.Web;

// Culture-free formatting and parsing everywhere, whatever the machine's locale (ICU is loaded only for SqlClient's sake).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture
    = CultureInfo.InvariantCulture;

// `dot-api users …`, `tokens …`, `help …`: an admin command against the same database; `serve`, host options or nothing serve.
var start = CliStart.From(args);
var builder = WebApplication.CreateBuilder(ContentRoot.BuilderOptions(start.HostArgs));
if (start.IsCommand)
{
    builder.Logging.ForCommandLine();
}

builder.Logging.RedactSecrets();
builder.Services.AddSingleton(TimeProvider.System);
builder.AddRequestLimits();
builder.Services.AddDotErrorHandling();
// The store Dot:Database:Provider names, of those this server is built with.
builder.Services.AddDotData(builder.Configuration, SqliteStore.Registration, PostgresStore.Registration);
builder.Services.AddChangeNotifications();
builder.Services.AddAudit();
builder.Services.AddUsers();
builder.Services.AddTokens();
builder.Services.AddDotConnections();
builder.Services.AddSync();
builder.Services.AddCatalog();
builder.Services.AddConnectors();
builder.Services.AddAssets();
builder.Services.AddHistory();
builder.Services.AddAuthentication(SessionDefaults.SelectorScheme).AddApiToken().AddSessionCookie();
builder.Services.AddSessions();
builder.Services.AddTrustedForwardedHeaders(builder.Configuration);
builder.Services.AddAuthenticationThrottle();
builder.Services.AddDotSwagger();
builder.AddServerStart();

var app = builder.Build();

// Parsed against the commands the features registered; usage and bad arguments end here, before the database.
var command = start.IsCommand ? CliHost.ParseOrExit(start, app.Services) : null;
await app.Services.MigrateDotDatabaseAsync();
if (command is not null)
{
    return await CliHost.RunAsync(command, app.Services);
}

app.UseTrustedForwardedHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRequestLimits();
app.UseDotSwagger();
app.UseSettingsPageAssets();
app.UseDotAuthentication();
app.UseSessionAntiforgery();
app.UseDotAuthorization();

app.MapHealth();
app.MapAuth();
app.MapTokens();
app.MapUsers();
app.MapAudit();
app.MapConnections();
app.MapSync();
app.MapCatalog();
app.MapAssets();
app.MapChats();
app.MapHistory();
app.MapSessions();
app.MapSettingsPage();
app.MapContributedEndpoints();

return await app.RunDotServerAsync();

/// <summary>The entry point, visible to the tests' <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
