using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// The real executable (<c>dotnet Dot.Api.dll</c>, as built beside the tests) as its own process:
/// for the CLI, and for a server on a real loopback port that can be killed.
/// </summary>
public static partial class ServerProcess
{
    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "Dot.Api.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>
    /// Runs a CLI command to completion against the database at <paramref name="databasePath"/>. The process's
    /// working directory is the database's directory, never the executable's.
    /// </summary>
    public static Task<Result> RunAsync(string databasePath, string? stdin, params string[] args)
        => RunAsync(databasePath, stdin, new Dictionary<string, string>(), args);

    /// <summary>The same, with extra environment variables (another store, say: <c>ConnectionStrings__Dot</c> overrides the file's).</summary>
    public static async Task<Result> RunAsync(string databasePath, string? stdin, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var info = StartInfo(databasePath, args);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// Runs a CLI command against a factory's store, whichever it is (<see cref="DotApiFactory.StoreArguments"/>), in
    /// the factory's directory.
    /// </summary>
    public static Task<Result> RunAsync(DotApiFactory factory, string? stdin, params string[] args)
        => RunAsync(factory.DatabasePath, stdin, [.. args, .. factory.StoreArguments]);

    /// <summary>Starts the server on a factory's store, whichever it is, and waits until it listens.</summary>
    public static Task<RunningServer> StartAsync(DotApiFactory factory, params string[] extraArgs)
        => StartAsync(factory.DatabasePath, new Dictionary<string, string>(), [.. factory.StoreArguments, .. extraArgs]);

    /// <summary>Starts the server on a free loopback port and waits until it listens.</summary>
    public static Task<RunningServer> StartAsync(string databasePath, params string[] extraArgs)
        => StartAsync(databasePath, new Dictionary<string, string>(), extraArgs);

    /// <summary>The same, with extra environment variables for the server process.</summary>
    public static async Task<RunningServer> StartAsync(string databasePath, IReadOnlyDictionary<string, string> environment, params string[] extraArgs)
    {
        var info = StartInfo(databasePath, ["--urls", "http://127.0.0.1:0", .. extraArgs]);
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        var process = Process.Start(info)!;
        process.StandardInput.Close();
        var output = new StringBuilder();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                listening.TrySetException(new InvalidOperationException($"server exited before listening:\n{output}"));
                return;
            }

            lock (output)
            {
                output.AppendLine(e.Data);
            }

            var match = ListeningPattern().Match(e.Data);
            if (match.Success)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return new RunningServer(process, address, output);
    }

    private static ProcessStartInfo StartInfo(string databasePath, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(databasePath)!,
        };
        info.ArgumentList.Add(ExecutablePath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["ConnectionStrings__Dot"] = $"Data Source={databasePath}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        info.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        return info;
    }

    [GeneratedRegex(@"Now listening on: (http://\S+)")]
    private static partial Regex ListeningPattern();
}

public sealed class RunningServer(Process process, Uri address, StringBuilder output) : IAsyncDisposable
{
    public Uri Address { get; } = address;

    public Process Process { get; } = process;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = Address };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Add("API-KEY", token);
        }

        return client;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush.</summary>
    public void Kill() => Process.Kill(entireProcessTree: true);

    /// <summary>A graceful stop (SIGTERM), as a service manager would.</summary>
    public async Task StopAsync()
    {
        if (!Process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await Process.WaitForExitAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
            await Process.WaitForExitAsync();
        }

        Process.Dispose();
    }
}
