using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// A connection's decrypted secrets. Deliberately not a dictionary: it prints and serializes as its
/// names only, so logging or returning it by mistake shows no value.
/// </summary>
public sealed class ConnectionSecretValues
{
    public static readonly ConnectionSecretValues Empty = new(new Dictionary<string, string>());

    private readonly Dictionary<string, string> _values;

    public ConnectionSecretValues(IReadOnlyDictionary<string, string> values)
        => _values = new Dictionary<string, string>(values, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _values.Keys;

    public int Count => _values.Count;

    /// <exception cref="KeyNotFoundException">No secret of that name; the message names it, never a value.</exception>
    public string this[string name]
        => _values.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"The connection has no secret named '{name}'.");

    public bool TryGetValue(string name, out string value) => _values.TryGetValue(name, out value!);

    /// <summary>
    /// <paramref name="text"/> with every secret value (raw, URL-encoded and JSON-escaped) replaced by <c>[REDACTED]</c>:
    /// for error texts that may quote a connection string or a failed request.
    /// </summary>
    public string Scrub(string text)
    {
        foreach (var value in _values.Values.Where(v => v.Length > 0).OrderByDescending(v => v.Length))
        {
            text = text.Replace(value, "[REDACTED]", StringComparison.Ordinal);
            foreach (var encoded in new[] { Uri.EscapeDataString(value), JsonEncodedText.Encode(value).ToString() })
            {
                if (encoded != value)
                {
                    text = text.Replace(encoded, "[REDACTED]", StringComparison.OrdinalIgnoreCase);
                }
            }
        }

        return text;
    }

    public override string ToString() => $"[{_values.Count} secret(s): {string.Join(", ", _values.Keys.Order(StringComparer.Ordinal))}]";
}
