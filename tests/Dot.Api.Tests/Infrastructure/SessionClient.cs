using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Mvc.Testing.Handlers;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// A browser-like client of the web session: keeps cookies, reads the anti-forgery token from
/// GET /api/session and sends it in X-CSRF-TOKEN, as the Settings / Users page does.
/// </summary>
public sealed class SessionClient
{
    private SessionClient(HttpClient http, CookieContainer cookies)
    {
        Http = http;
        Cookies = cookies;
    }

    public HttpClient Http { get; }

    /// <summary>The cookies this "browser" holds (no redirects are followed).</summary>
    public CookieContainer Cookies { get; }

    public string? AntiforgeryToken { get; private set; }

    public static async Task<SessionClient> StartAsync(DotApiFactory factory, string baseAddress = "http://localhost")
    {
        var cookies = new CookieContainer();
        var client = new SessionClient(factory.CreateDefaultClient(new Uri(baseAddress), new CookieContainerHandler(cookies)), cookies);
        await client.RefreshAsync();
        return client;
    }

    /// <summary>
    /// What a thief would copy from this browser: its <c>Cookie</c> header (session and anti-forgery cookies)
    /// and its anti-forgery token, replayed from a client of its own that keeps no cookies.
    /// </summary>
    public HttpClient Copy(DotApiFactory factory)
    {
        var http = factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            BaseAddress = Http.BaseAddress!,
            AllowAutoRedirect = false,
            HandleCookies = false,
        });
        var header = Cookies.GetCookieHeader(Http.BaseAddress!);
        Assert.Contains("dot_session=", header, StringComparison.Ordinal);
        http.DefaultRequestHeaders.Add("Cookie", header);
        http.DefaultRequestHeaders.Add("X-CSRF-TOKEN", AntiforgeryToken ?? throw new InvalidOperationException("no anti-forgery token yet"));
        return http;
    }

    /// <summary>GET /api/session, keeping its anti-forgery token.</summary>
    public async Task<JsonElement> RefreshAsync()
    {
        var response = await Http.GetAsync("/api/session");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = await response.JsonAsync();
        AntiforgeryToken = session.GetProperty("antiforgery_token").GetString();
        return session;
    }

    public async Task<HttpResponseMessage> SignInAsync(string email, string password)
    {
        var response = await SendAsync(HttpMethod.Post, "/api/session/sign-in", new { email, password });
        if (response.IsSuccessStatusCode)
        {
            var session = await response.JsonAsync();
            AntiforgeryToken = session.GetProperty("antiforgery_token").GetString();
        }

        return response;
    }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, object? body = null, bool antiforgery = true)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (antiforgery && AntiforgeryToken is not null)
        {
            request.Headers.Add("X-CSRF-TOKEN", AntiforgeryToken);
        }

        return Http.SendAsync(request);
    }
}

public static class RemoteAddressExtensions
{
    /// <summary>Makes every request look as if it came from <paramref name="address"/> (the test server has no real peer).</summary>
    public static DotApiFactory WithRemoteAddress(this DotApiFactory factory, string address)
        => factory.WithServices(s => s.AddSingleton<IStartupFilter>(new RemoteAddressFilter(IPAddress.Parse(address))));

    private sealed class RemoteAddressFilter(IPAddress address) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = address;
                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
