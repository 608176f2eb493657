using System.Security.Cryptography;
using System.Text.Json;
using Dot.Api.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Connections;

/// <summary>
/// Encrypts and decrypts a connection's secrets with ASP.NET Core Data Protection. The key ring
/// lives in the database (<see cref="DotDbContext.DataProtectionKeys"/>), so every instance and the
/// CLI can read what another wrote. Each connection gets its own sub-purpose ("type", "id"), so a
/// ciphertext copied onto another row does not decrypt there.
/// This is the service connectors and other code use to read a connection's secrets.
/// </summary>
public sealed class ConnectionSecrets(IDataProtectionProvider provider, DotDbContext db)
{
    public const string Purpose = "Dot.Connections.Secrets.v1";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    /// <summary>The decrypted secrets of a connection; null when there is no such connection.</summary>
    /// <exception cref="CryptographicException">The key that protected them is not in the key ring.</exception>
    public async Task<ConnectionSecretValues?> ReadAsync(string type, string id, CancellationToken cancellationToken)
    {
        var row = await db.Connections.AsNoTracking()
            .Where(c => c.Type == type && c.Id == id)
            .Select(c => new { c.Type, c.Id, c.Secrets })
            .FirstOrDefaultAsync(cancellationToken);
        return row is null ? null : Unprotect(row.Type, row.Id, row.Secrets);
    }

    internal byte[]? Protect(string type, string id, IReadOnlyDictionary<string, string> secrets)
        => secrets.Count == 0
            ? null
            : _protector.CreateProtector(type, id).Protect(JsonSerializer.SerializeToUtf8Bytes(secrets));

    internal ConnectionSecretValues Unprotect(string type, string id, byte[]? ciphertext)
    {
        if (ciphertext is null || ciphertext.Length == 0)
        {
            return ConnectionSecretValues.Empty;
        }

        var plain = _protector.CreateProtector(type, id).Unprotect(ciphertext);
        try
        {
            return new ConnectionSecretValues(JsonSerializer.Deserialize<Dictionary<string, string>>(plain) ?? []);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plain);
        }
    }
}

/// <summary>
/// A connection's decrypted secrets. Deliberately not a dictionary: it prints and serializes as its
/// names only, so logging or returning it by mistake shows no value.
/// </summary>
public sealed class ConnectionSecretValues
{
    public static readonly ConnectionSecretValues Empty = new(new Dictionary<string, string>());

    private readonly Dictionary<string, string> _values;

    internal ConnectionSecretValues(Dictionary<string, string> values)
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
