using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Http.Features;

namespace Dot.Api.BenchHost;

/// <summary>
/// <c>Dot.Api.BenchHost pipeline --token T [--user EMAIL] [--requests N] [--rounds R] [--rows a,b] [--alone true]</c>: the server's own per-request
/// cost without sockets, HTTP parsing or a load generator. The product starts as shipped (its entry point, its
/// configuration and database, Kestrel on a loopback port nobody uses); a startup filter keeps the application's
/// whole middleware pipeline (<see cref="Capture"/>), and once the server has started <see cref="Runner"/> calls it
/// with requests made in memory, each in an <c>HttpContext</c> from the host's own factory as hosting makes them,
/// one after another. Left out, for every row alike: Kestrel, the kernel, and hosting's diagnostics around a request. Rows are interleaved, R rounds of N requests each; each row's
/// figure is its median. What the wrk run cannot show on a noisy machine, this shows within a few nanoseconds: what a
/// cache hit adds to an anonymous request. It does not replace the wrk run: Kestrel's own work and the kernel's are
/// not in it (docs/benchmark.md, "Third round").
/// </summary>
internal static class PipelineRun
{
    public const string EnvironmentVariable = "BENCH_PIPELINE";

    private static readonly string[] Kinds = ["anonymous", "live", "hit", "malformed", "miss", "query"];

    public static async Task<int> RunAsync(string[] args, Func<string[], Task<int>> serve)
    {
        var parsed = BenchArguments.Parse("pipeline", args, "token", "user", "requests", "rounds", "rows", "alone");
        var token = parsed.Optional("token") ?? throw new ArgumentException("pipeline: --token is required (an API token of the database's user).");
        var rows = parsed.Optional("rows")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? Kinds;
        if (rows.FirstOrDefault(r => !Kinds.Contains(r, StringComparer.Ordinal)) is { } unknown)
        {
            throw new ArgumentException($"pipeline: unknown row '{unknown}' (rows: {string.Join(", ", Kinds)}).");
        }

        Settings = new PipelineSettings(token, parsed.Optional("user"), parsed.Count("requests", 200_000), parsed.Count("rounds", 5), rows,
            parsed.Optional("alone") == "true");
        Environment.SetEnvironmentVariable(EnvironmentVariable, "1");
        var code = await serve(["serve", "--urls", "http://127.0.0.1:0"]);
        return Failed ? 1 : code;
    }

    public static PipelineSettings? Settings { get; private set; }

    private static bool Failed { get; set; }

    public static async Task MeasureAsync(Application application, PipelineSettings settings, TextWriter output)
    {
        var requests = new Dictionary<string, FakeRequest>(StringComparer.Ordinal)
        {
            ["anonymous"] = new("/bench/anonymous", null, 200),
            ["live"] = new("/healthz/live", null, 200),
            ["hit"] = new("/api/auth/me", settings.Token, 200),
            ["malformed"] = new("/api/auth/me", "dot-zzz", 401),
            ["miss"] = new("/api/auth/me", "dot-f9660f95b3a52c486200c36a064bcfc45358df0da868a2057408754eced0abXX", 401),
            ["query"] = new("/bench/query/me", null, 200,
                $"?user_id={Uri.EscapeDataString(settings.User ?? "bench@example.com")}&api_token={settings.Token}"),
        };

        foreach (var (kind, request) in requests)
        {
            var status = await SendAsync(application, request);
            if (status != request.Expected)
            {
                throw new InvalidOperationException($"pipeline: {kind} answered {status}, not {request.Expected}: check --token (and --user).");
            }
        }

        // Warm-up: every row measured, for two seconds each, twice: long enough for tiered compilation to settle.
        var rows = settings.Alone || settings.Rows.Contains("anonymous") ? settings.Rows : ["anonymous", .. settings.Rows];
        for (var i = 0; i < 2; i++)
        {
            foreach (var kind in rows)
            {
                var warming = Stopwatch.StartNew();
                while (warming.Elapsed < TimeSpan.FromSeconds(2))
                {
                    await LoopAsync(application, requests[kind], 1_000);
                }
            }
        }

        var nanoseconds = rows.ToDictionary(k => k, _ => new List<double>());
        var bytes = rows.ToDictionary(k => k, _ => new List<double>());
        for (var round = 0; round < settings.Rounds; round++)
        {
            foreach (var kind in rows)
            {
                var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
                var started = Stopwatch.GetTimestamp();
                await LoopAsync(application, requests[kind], settings.Requests);
                var elapsed = Stopwatch.GetElapsedTime(started);
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
                nanoseconds[kind].Add(elapsed.TotalNanoseconds / settings.Requests);
                bytes[kind].Add((double)allocated / settings.Requests);
            }
        }

        // "− anonymous" is the median of each round's difference with the anonymous row of the same round: a
        // machine that slows down for a while slows both, and the difference stays.
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pipeline: {settings.Rounds} interleaved rounds of {settings.Requests:N0} requests a row, in memory (no Kestrel, no sockets); medians"));
        if (!rows.Contains("anonymous"))
        {
            output.WriteLine("row          ns/request    bytes/request");
            foreach (var kind in rows)
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{kind,-12} {Median(nanoseconds[kind]),10:F0} {Median(bytes[kind]),16:F0}"));
            }

            return;
        }

        output.WriteLine("row          ns/request   − anonymous   × anonymous    bytes/request   − anonymous");
        foreach (var kind in rows)
        {
            var ns = Median(nanoseconds[kind]);
            var nsMore = Median([.. nanoseconds[kind].Zip(nanoseconds["anonymous"], (a, b) => a - b)]);
            var nsTimes = Median([.. nanoseconds[kind].Zip(nanoseconds["anonymous"], (a, b) => a / b)]);
            var b = Median(bytes[kind]);
            var bytesMore = Median([.. bytes[kind].Zip(bytes["anonymous"], (a, b) => a - b)]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{kind,-12} {ns,10:F0} {nsMore,+12:+0;-0;0} {nsTimes,13:F3} {b,16:F0} {bytesMore,+12:+0;-0;0}"));
        }
    }

    private static async Task LoopAsync(Application application, FakeRequest request, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await SendAsync(application, request);
        }
    }

    /// <summary>One request as Kestrel hands it over: the features of a GET on a loopback connection.</summary>
    private static async Task<int> SendAsync(Application application, FakeRequest request)
    {
        var features = new FeatureCollection();
        var requestFeature = new HttpRequestFeature
        {
            Method = HttpMethods.Get,
            Scheme = "http",
            Protocol = "HTTP/1.1",
            PathBase = string.Empty,
            Path = request.Path,
            QueryString = request.Query,
            RawTarget = request.Path + request.Query,
        };
        requestFeature.Headers.Host = "127.0.0.1";
        if (request.ApiKey is { } key)
        {
            // A new string each time, as Kestrel reads a header from the request's bytes.
            requestFeature.Headers["API-KEY"] = new string(key);
        }

        var response = new HttpResponseFeature();
        features.Set<IHttpRequestFeature>(requestFeature);
        features.Set<IHttpResponseFeature>(response);
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(Stream.Null));
        features.Set<IHttpConnectionFeature>(new HttpConnectionFeature
        {
            ConnectionId = "bench",
            RemoteIpAddress = IPAddress.Loopback,
            RemotePort = 40000,
            LocalIpAddress = IPAddress.Loopback,
            LocalPort = 18080,
        });

        var context = application.Contexts.Create(features);
        try
        {
            await application.Pipeline(context);
        }
        finally
        {
            application.Contexts.Dispose(context);
        }

        return response.StatusCode;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The pipeline as the host built it, and the host's context factory.</summary>
    internal sealed record Application(RequestDelegate Pipeline, IHttpContextFactory Contexts);

    /// <summary>The first middleware of all: it keeps the rest of the pipeline, and passes every real request on.</summary>
    internal sealed class Capture : IStartupFilter
    {
        private readonly TaskCompletionSource<RequestDelegate> _pipeline = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<RequestDelegate> Pipeline => _pipeline.Task;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(rest =>
            {
                _pipeline.TrySetResult(rest);
                return rest;
            });
            next(app);
        };
    }

    /// <summary>Measures once the application has started, then stops it; a failure is exit code 1.</summary>
    internal sealed class Runner(Capture capture, IHttpContextFactory contexts, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var settings = Settings ?? throw new InvalidOperationException("pipeline: no settings.");
            lifetime.ApplicationStarted.Register(() => _ = Task.Run(async () =>
            {
                try
                {
                    await MeasureAsync(new Application(await capture.Pipeline, contexts), settings, Console.Out);
                }
                catch (Exception ex)
                {
                    await Console.Error.WriteLineAsync(ex.ToString());
                    Failed = true;
                }
                finally
                {
                    lifetime.StopApplication();
                }
            }));
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed record FakeRequest(string Path, string? ApiKey, int Expected, string Query = "");
}

/// <summary>The run's settings; <see cref="Alone"/>: the rows given only, without the anonymous row (for a profile of one row).</summary>
internal sealed record PipelineSettings(string Token, string? User, int Requests, int Rounds, IReadOnlyList<string> Rows, bool Alone);
