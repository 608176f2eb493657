using System.Collections;
using System.Globalization;

namespace Dot.Api.Logging;

/// <summary>
/// Wraps the host's <see cref="ILoggerFactory"/> so that every logger — the framework's own
/// "Request starting …" line included — has URL tokens removed from its message, its structured
/// values, its scopes and its exception text before any provider sees them.
/// </summary>
internal sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
            => inner.BeginScope(RedactedState.From(state));

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel))
            {
                return;
            }

            var message = formatter(state, exception);
            var redactedException = RedactedException.From(exception);
            if (!SecretRedactor.MayContainSecret(message) && !RedactedState.HasSecretValue(state)
                && ReferenceEquals(redactedException, exception))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
                return;
            }

            var redacted = RedactedState.From(state, SecretRedactor.Redact(message));
            inner.Log(logLevel, eventId, redacted, redactedException, static (s, _) => s.ToString());
        }
    }

    /// <summary>Structured state with every value redacted; formats as the redacted message.</summary>
    private sealed class RedactedState(IReadOnlyList<KeyValuePair<string, object?>> values, string message)
        : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public static object From<TState>(TState state)
            where TState : notnull
        {
            var text = state.ToString() ?? string.Empty;
            return SecretRedactor.MayContainSecret(text) || HasSecretValue(state)
                ? From(state, SecretRedactor.Redact(text))
                : state;
        }

        public static RedactedState From<TState>(TState state, string message)
        {
            var values = new List<KeyValuePair<string, object?>>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    values.Add(new(pair.Key, RedactValue(pair.Value)));
                }
            }

            return new RedactedState(values, message);
        }

        public static bool HasSecretValue<TState>(TState state)
        {
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    if (pair.Value is not null and not ValueType
                        && SecretRedactor.MayContainSecret(Convert.ToString(pair.Value, CultureInfo.InvariantCulture) ?? string.Empty))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private static object? RedactValue(object? value) => value switch
        {
            null => null,
            string s => SecretRedactor.Redact(s),
            ValueType v => v,
            IEnumerable e and not IDictionary => string.Join(", ", e.Cast<object?>().Select(x => SecretRedactor.Redact(Convert.ToString(x, CultureInfo.InvariantCulture) ?? string.Empty))),
            _ => SecretRedactor.Redact(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty),
        };

        public KeyValuePair<string, object?> this[int index] => values[index];

        public int Count => values.Count;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => values.GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => message;
    }
}

/// <summary>Stands in for an exception whose text held a secret: same type name, redacted text.</summary>
public sealed class RedactedException : Exception
{
    private readonly string _text;

    private RedactedException(Exception original, string text)
        : base(SecretRedactor.Redact(original.Message))
    {
        _text = text;
        OriginalType = original.GetType().FullName ?? original.GetType().Name;
    }

    public string OriginalType { get; }

    public static Exception? From(Exception? exception)
    {
        if (exception is null)
        {
            return null;
        }

        var text = exception.ToString();
        return SecretRedactor.MayContainSecret(text) && SecretRedactor.Redact(text) is var redacted && redacted != text
            ? new RedactedException(exception, redacted)
            : exception;
    }

    public override string? StackTrace => null;

    public override string ToString() => _text;
}
