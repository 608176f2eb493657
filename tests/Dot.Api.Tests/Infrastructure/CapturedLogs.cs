using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>
/// A logger provider that keeps everything a real provider could write: the message, every
/// structured value, every scope, and the whole exception text.
/// </summary>
public sealed class CapturedLogs : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<string> _entries = new();
    private IExternalScopeProvider? _scopes;

    public IReadOnlyCollection<string> Entries => _entries;

    public string AllText => string.Join('\n', _entries);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
            => owner._scopes?.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder();
            text.Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    text.Append(" | ").Append(pair.Key).Append('=').Append(pair.Value);
                }
            }

            owner._scopes?.ForEachScope((scope, sb) =>
            {
                sb.Append(" | scope: ").Append(scope);
                if (scope is IEnumerable<KeyValuePair<string, object?>> scopePairs)
                {
                    foreach (var pair in scopePairs)
                    {
                        sb.Append(' ').Append(pair.Key).Append('=').Append(pair.Value);
                    }
                }
            }, text);
            if (exception is not null)
            {
                text.Append(" | exception: ").Append(exception);
            }

            owner._entries.Enqueue(text.ToString());
        }
    }
}
