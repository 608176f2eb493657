using System.Net;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dot.Api.BrowserTests.Infrastructure;

/// <summary>
/// Another origin: a second tiny Kestrel app on another loopback port whose page auto-submits a form
/// to the Dot server, as a malicious site would, riding on whatever cookies the browser has.
/// </summary>
public sealed class AttackerSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AttackerSite(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<AttackerSite> StartAsync(string formAction)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var action = HtmlEncoder.Default.Encode(formAction);
        var html = $"""
            <!doctype html>
            <html><head><title>You won a prize</title></head>
            <body>
              <h1>Claim your prize</h1>
              <form id="f" method="post" action="{action}">
                <input name="name" value="stolen">
                <input name="expires_in_days" value="3650">
              </form>
              <script>document.getElementById('f').submit();</script>
            </body></html>
            """;
        app.MapGet("/", () => Results.Content(html, "text/html"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new AttackerSite(app, new Uri(address).Port);
    }

    public string Url(string host) => $"http://{host}:{Port}/";

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
