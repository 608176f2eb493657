using System.Security.Cryptography;
using System.Text.Json;
using Dot.Api.Connectors;
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
