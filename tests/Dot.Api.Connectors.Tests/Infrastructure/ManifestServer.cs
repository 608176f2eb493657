using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Connectors.Tests.Infrastructure;

/// <summary>
/// A tiny Kestrel on a free loopback port that serves a manifest file at dbt Cloud's artifacts path, but only to a
/// request whose Authorization header is <paramref name="authorization"/> (when given). Records the headers it saw and
/// the path of every request. <see cref="RedirectPath"/> redirects to the manifest; <see cref="ErrorPath"/> answers 500
/// with <see cref="ErrorMarker"/> in its reason phrase and its body.
/// </summary>
public sealed class ManifestServer(string manifestPath, string? authorization) : IAsyncDisposable
{
    public const string ArtifactPath = "/api/v2/accounts/1/jobs/123/artifacts/manifest.json";
    public const string RedirectPath = "/moved/manifest.json";
    public const string ErrorPath = "/broken/manifest.json";
    public const string ErrorMarker = "Remote-Marker-6d1f0c";

    private WebApplication? _app;

    public ConcurrentQueue<string?> AuthorizationHeaders { get; } = new();

    public ConcurrentQueue<string> Paths { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public Uri ManifestUrl => new(BaseAddress, ArtifactPath);

    /// <summary>How long the manifest takes to come (before its first byte): a slow dbt Cloud, for runs caught mid-way.</summary>
    public TimeSpan Delay { get; set; }

    public async Task<ManifestServer> StartAsync()
    {
        _app = LoopbackApp.Create();
        _app.Use((context, next) =>
        {
            Paths.Enqueue(context.Request.Path.Value ?? "");
            return next(context);
        });
        _app.MapGet(RedirectPath, context =>
        {
            context.Response.Redirect(ArtifactPath);
            return Task.CompletedTask;
        });
        _app.MapGet(ErrorPath, async context =>
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseFeature>()!.ReasonPhrase = $"Oops {ErrorMarker}";
            await context.Response.WriteAsync($"<html>root:x:0:0 {ErrorMarker}</html>");
        });
        _app.MapGet(ArtifactPath, async context =>
        {
            var sent = context.Request.Headers.Authorization.ToString();
            AuthorizationHeaders.Enqueue(sent.Length == 0 ? null : sent);
            if (Delay > TimeSpan.Zero)
            {
                await Task.Delay(Delay, context.RequestAborted);
            }

            if (authorization is not null && sent != authorization)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsync("""{"status": {"code": 401, "is_success": false, "user_message": "Invalid token."}}""");
                return;
            }

            context.Response.ContentType = "application/json";
            await context.Response.SendFileAsync(manifestPath);
        });
        BaseAddress = await LoopbackApp.StartAsync(_app);
        return this;
    }

    public async ValueTask DisposeAsync()
    {
        await LoopbackApp.StopAsync(_app);
    }
}
