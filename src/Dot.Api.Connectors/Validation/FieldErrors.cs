namespace Dot.Api.Validation;

/// <summary>
/// Collects field errors, keyed by the field as the client sent it (<c>settings.port</c>, <c>external_asset.url</c>);
/// empty means valid. Shared by the server's validation and the connectors' contract (a connection type's settings rule,
/// an external asset's check), so both report the same way; the server answers them as a 422 problem.
/// </summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool IsEmpty => _errors.Count == 0;

    public FieldErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
        return this;
    }

    /// <summary>The messages on one line, for the command line.</summary>
    public override string ToString() => string.Join(" ", _errors.Values.SelectMany(v => v));

    /// <summary>The messages by field, as a validation problem's <c>errors</c> object holds them.</summary>
    public Dictionary<string, string[]> ToDictionary()
        => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
}
