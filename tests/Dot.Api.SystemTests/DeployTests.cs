using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Xunit.Abstractions;

namespace Dot.Api.Tests;

/// <summary>
/// deploy/run.sh for real: two instances behind HAProxy on one PostgreSQL database, and traffic from clients on other
/// loopback addresses (127.0.0.2, 127.0.0.3) than the one HAProxy connects to the instances from (127.0.0.1), so that
/// "the client address" is not the proxy's. Skipped without haproxy or PostgreSQL, except on CI (<c>CI=true</c>).
/// </summary>
[Trait("Store", "postgres-always")]
public sealed class DeployTests(ITestOutputHelper output)
{
    private static readonly IPAddress Client = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress Guesser = IPAddress.Parse("127.0.0.3");

    [SkippableFact]
    public async Task TrafficThroughHaproxyReachesBothInstancesWhichSeeTheClientAddressNotASpoofedOne()
    {
        RequireHaproxy();
        (await SharedPostgres.GetAsync()).Require();
        var connectionString = await SharedPostgres.ConnectionStringAsync(await SharedPostgres.CreateDatabaseAsync());
        var directory = Directory.CreateTempSubdirectory("dot-deploy-test-").FullName;
        var cli = ServerFleet.StoreEnvironment(connectionString);
        Assert.Equal(0, (await ServerProcess.RunAsync(Path.Combine(directory, "unused.db"), null, cli, "users", "add", "--email", "admin@example.com", "--role", "admin")).ExitCode);
        var token = (await ServerProcess.RunAsync(Path.Combine(directory, "unused.db"), null, cli, "tokens", "create", "--email", "admin@example.com", "--name", "through-haproxy")).Stdout.Trim();

        await using var set = await DeploySet.StartAsync(connectionString, new Dictionary<string, string>
        {
            ["Dot__Tokens__UsageFlushSeconds"] = "1",
            ["Dot__Auth__MaxFailuresPerMinute"] = "5",
        }, output);

        // Every request says it comes from 203.0.113.9: HAProxy drops that and writes the client's own address.
        using var client = From(Client, set.Url, token);
        client.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");
        var instances = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 10; i++)
        {
            var response = await client.GetAsync("/api/auth/me");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            instances.Add(string.Join(',', response.Headers.GetValues("X-Dot-Instance")));
        }

        Assert.Equal(["dot1", "dot2"], instances.Order(StringComparer.Ordinal));
        var lastUsedIp = await Eventually.ValueAsync(() => LastUsedIpAsync(client), ip => ip is not null, TimeSpan.FromSeconds(20),
            _ => "last_used_ip still empty after 20 s (flush every second)");
        Assert.Equal("127.0.0.2", lastUsedIp);

        // Guesses from 127.0.0.3, each with a different spoofed address, are throttled as one client; 127.0.0.2 is not.
        using var guesser = From(Guesser, set.Url, null);
        var throttled = false;
        for (var i = 0; i < 40 && !throttled; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
            request.Headers.Add("API-KEY", TokenFormat.Generate());
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}");
            var status = (await guesser.SendAsync(request)).StatusCode;
            Assert.True(status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, $"guess {i}: {(int)status}");
            throttled = status == HttpStatusCode.TooManyRequests;
        }

        Assert.True(throttled, "40 bad guesses from one client address were never throttled");

        // The instance that said 429 counted the budget first; the other learns of the failures within the contract's
        // second of slack (they are shared every 100 ms): within 1.5 s both instances (haproxy alternates) refuse even the
        // right token from that client. Asking with the right token changes nothing: a success is not counted.
        var refusedBy = new HashSet<string>(StringComparer.Ordinal);
        await Eventually.TrueAsync(async () =>
        {
            using var right = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me");
            right.Headers.Add("API-KEY", token);
            var response = await guesser.SendAsync(right);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refusedBy.Add(string.Join(',', response.Headers.GetValues("X-Dot-Instance")));
            }

            return refusedBy.Count == 2;
        }, TimeSpan.FromSeconds(1.5), "the right token from the throttled client was not refused by both instances within 1.5 s");

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        await set.StopAsync();
        Assert.True(set.StoppedEverything, "run.sh left something listening after SIGTERM");
        Directory.Delete(directory, recursive: true);
    }

    private static void RequireHaproxy()
    {
        var found = Environment.GetEnvironmentVariable("PATH")!.Split(':').Append("/usr/sbin")
            .Any(dir => File.Exists(Path.Combine(dir, "haproxy")));
        if (found)
        {
            return;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("CI=true and no haproxy for the deploy test: .ci/run installs Debian's haproxy package");
        }

        Skip.If(true, "haproxy is not installed (apt-get install -y --no-install-recommends haproxy)");
    }

    /// <summary>An HTTP client whose connections leave from <paramref name="local"/>, a loopback address other than the proxy's.</summary>
    private static HttpClient From(IPAddress local, Uri baseAddress, string? token)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = baseAddress };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Add("API-KEY", token);
        }

        return client;
    }

    private static async Task<string?> LastUsedIpAsync(HttpClient client)
    {
        var response = await client.GetAsync("/api/tokens");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var item = Assert.Single((await response.JsonAsync()).GetProperty("items").EnumerateArray());
        return item.GetProperty("last_used_ip").GetString();
    }

    /// <summary>deploy/run.sh as a process: started with free ports, read until it prints its URL, stopped with SIGTERM.</summary>
    private sealed class DeploySet : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _log;
        private readonly int[] _ports;
        private readonly ITestOutputHelper _output;

        private DeploySet(Process process, StringBuilder log, int[] ports, Uri url, ITestOutputHelper output)
        {
            _process = process;
            _log = log;
            _ports = ports;
            Url = url;
            _output = output;
        }

        public Uri Url { get; }

        /// <summary>Whether none of the set's ports accepts a connection any more.</summary>
        public bool StoppedEverything => _ports.All(port =>
        {
            using var probe = new TcpClient();
            try
            {
                probe.Connect(IPAddress.Loopback, port);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        });

        public static async Task<DeploySet> StartAsync(string connectionString, IReadOnlyDictionary<string, string> settings, ITestOutputHelper output)
        {
            var ports = new[] { FreePort(), FreePort(), FreePort() };
            var info = new ProcessStartInfo("bash")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(Path.Combine(RepositoryRoot(), "deploy", "run.sh"));
            info.Environment["DOT_CONNECTION_STRING"] = connectionString;
            info.Environment["DOT_API_DLL"] = ServerProcess.ExecutablePath;
            info.Environment["DOT_PORT"] = ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture);
            info.Environment["DOT_INSTANCE_PORTS"] = $"{ports[1]} {ports[2]}";
            foreach (var (name, value) in settings)
            {
                info.Environment[name] = value;
            }

            var log = new StringBuilder();
            var url = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is null)
                {
                    url.TrySetException(new InvalidOperationException($"run.sh ended before printing its URL:\n{log}"));
                    return;
                }

                lock (log)
                {
                    log.AppendLine(e.Data);
                }

                if (e.Data.StartsWith("Dot API: ", StringComparison.Ordinal))
                {
                    url.TrySetResult(new Uri(e.Data["Dot API: ".Length..]));
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                lock (log)
                {
                    log.AppendLine(e.Data);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await url.Task.WaitAsync(TimeSpan.FromSeconds(120));
            }
            catch
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                process.Dispose();
                throw;
            }

            return new DeploySet(process, log, ports, url.Task.Result, output);
        }

        /// <summary>SIGTERM, as Ctrl-C or a service manager would; run.sh stops the instances and HAProxy itself.</summary>
        public async Task StopAsync()
        {
            if (_process.HasExited)
            {
                return;
            }

            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await _process.WaitForExitAsync(timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await StopAsync();
            }
            catch (OperationCanceledException)
            {
            }

            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            lock (_log)
            {
                _output.WriteLine(_log.ToString());
            }

            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        private static string RepositoryRoot()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Dot.Api.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Dot.Api.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
