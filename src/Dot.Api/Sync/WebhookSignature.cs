using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Dot.Api.Sync;

/// <summary>
/// dbt Cloud's webhook signature (https://docs.getdbt.com/docs/deploy/webhooks#validate-a-webhook): the
/// <c>Authorization</c> header is the hex HMAC-SHA256 of the raw request body, keyed with the webhook's secret as UTF-8.
/// dbt Cloud sends lowercase hex; either case is accepted, since the digits are decoded and the bytes compared, in
/// constant time. Anything that is not exactly 64 hex digits is a wrong signature.
/// </summary>
public static class WebhookSignature
{
    private const int HashBytes = HMACSHA256.HashSizeInBytes;

    /// <summary>Why a signature was refused, for the audit trail: never the header's value.</summary>
    public enum Verdict
    {
        Valid,
        Missing,
        NotHex,
        Mismatch,
    }

    public static Verdict Check(string secret, ReadOnlySpan<byte> body, string? header)
    {
        if (string.IsNullOrEmpty(header))
        {
            return Verdict.Missing;
        }

        Span<byte> given = stackalloc byte[HashBytes];
        if (header.Length != HashBytes * 2
            || Convert.FromHexString(header, given, out _, out var written) != OperationStatus.Done
            || written != HashBytes)
        {
            return Verdict.NotHex;
        }

        var key = Encoding.UTF8.GetBytes(secret);
        Span<byte> expected = stackalloc byte[HashBytes];
        try
        {
            HMACSHA256.HashData(key, body, expected);
            return CryptographicOperations.FixedTimeEquals(expected, given) ? Verdict.Valid : Verdict.Mismatch;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
