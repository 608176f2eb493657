using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Dot.Api.Connectors;

/// <summary>
/// Snowflake key-pair authentication ("Using key-pair authentication", SQL API docs): an RS256 JWT signed with the
/// user's private key, <c>iss</c> = <c>ACCOUNT.USER.SHA256:&lt;base64 SHA-256 of the public key's DER
/// SubjectPublicKeyInfo&gt;</c>, <c>sub</c> = <c>ACCOUNT.USER</c>, <c>iat</c>, <c>exp</c> (under an hour later), the
/// account and the user upper-cased, the account without any region or cloud part after a dot.
/// </summary>
internal sealed class SnowflakeKeyPair : IDisposable
{
    /// <summary>Snowflake accepts at most an hour; a token is made for each request, so a few minutes is plenty.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly RSA _key;
    private readonly string _qualifiedUser;
    private readonly TimeProvider _time;

    private SnowflakeKeyPair(RSA key, string account, string user, TimeProvider time)
    {
        _key = key;
        _time = time;
        _qualifiedUser = $"{ClaimAccount(account)}.{user.ToUpperInvariant()}";
        Fingerprint = "SHA256:" + Convert.ToBase64String(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>What Snowflake shows as the user's <c>RSA_PUBLIC_KEY_FP</c>.</summary>
    public string Fingerprint { get; }

    /// <summary>The account as the JWT's claims name it: upper-cased, the part before the first dot (a locator's region, <c>.global</c>).</summary>
    public static string ClaimAccount(string account)
    {
        var dot = account.IndexOf('.', StringComparison.Ordinal);
        return (dot > 0 ? account[..dot] : account).ToUpperInvariant();
    }

    /// <summary>
    /// Reads the PEM private key (PKCS#8 <c>PRIVATE KEY</c>, PKCS#1 <c>RSA PRIVATE KEY</c>, or encrypted PKCS#8
    /// <c>ENCRYPTED PRIVATE KEY</c> with <paramref name="passphrase"/>). Failures name the secret, never its content.
    /// </summary>
    public static SnowflakeKeyPair From(string pem, string? passphrase, string account, string user, TimeProvider time)
    {
        var encrypted = pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (encrypted && passphrase is null)
        {
            throw new SyncFailedException("the snowflake secret private_key is an encrypted key (ENCRYPTED PRIVATE KEY): "
                + "give its passphrase as the secret private_key_passphrase.");
        }

        var rsa = RSA.Create();
        try
        {
            if (encrypted)
            {
                rsa.ImportFromEncryptedPem(pem, passphrase);
            }
            else
            {
                rsa.ImportFromPem(pem);
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            rsa.Dispose();
            throw new SyncFailedException(encrypted
                ? "the snowflake secret private_key_passphrase does not decrypt the secret private_key (or the key is not an RSA key)."
                : "the snowflake secret private_key is not a PEM RSA private key (-----BEGIN PRIVATE KEY----- PKCS#8, as rsa_key.p8 from "
                    + "openssl genrsa | openssl pkcs8).", ex);
        }

        if (rsa.KeySize < 2048)
        {
            rsa.Dispose();
            throw new SyncFailedException("the snowflake secret private_key is an RSA key of fewer than 2048 bits, which Snowflake does not accept.");
        }

        return new SnowflakeKeyPair(rsa, account, user, time);
    }

    /// <summary>A fresh JWT for one request.</summary>
    public string CreateToken()
    {
        var now = _time.GetUtcNow();
        var header = Base64Url("""{"alg":"RS256","typ":"JWT"}"""u8);
        var claims = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iss"] = $"{_qualifiedUser}.{Fingerprint}",
            ["sub"] = _qualifiedUser,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + Lifetime).ToUnixTimeSeconds(),
        }));
        var signed = $"{header}.{claims}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{signed}.{Base64Url(signature)}";
    }

    public void Dispose() => _key.Dispose();

    private static string Base64Url(ReadOnlySpan<byte> bytes)
        => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
