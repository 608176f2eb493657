using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;

namespace Dot.Api.Tokens;

/// <summary>
/// The <c>dot-</c> token format (API.md §2): <c>dot-</c>, 56 lowercase hex digits of CSPRNG
/// output, then the CRC-32 (IEEE) of the first 60 characters as 8 lowercase hex digits.
/// Parsing, checksum and hashing work on spans and allocate nothing.
/// </summary>
public static class TokenFormat
{
    public const string Prefix = "dot-";
    public const int Length = 68;
    public const int RandomBytes = 28;
    public const int HintLength = 10; // "dot-" + 6 hex digits
    private const int ChecksummedLength = 60;

    public static string Generate()
    {
        return string.Create(Length, 0, (chars, _) =>
        {
            Span<byte> rnd = stackalloc byte[RandomBytes];
            RandomNumberGenerator.Fill(rnd);
            Prefix.AsSpan().CopyTo(chars);
            WriteHex(rnd, chars[Prefix.Length..]);
            var crc = Checksum(chars[..ChecksummedLength]);
            Span<byte> crcBytes = stackalloc byte[4];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
            WriteHex(crcBytes, chars[ChecksummedLength..]);
        });
    }

    private static readonly System.Buffers.SearchValues<char> LowerHex = System.Buffers.SearchValues.Create("0123456789abcdef");

    /// <summary>Shape and checksum; no allocation, no database.</summary>
    public static TokenShape Check(ReadOnlySpan<char> token) => CheckAndHash(token, default);

    /// <summary>
    /// Shape and checksum, and for a valid token its SHA-256 in <paramref name="hash"/> (32 bytes; or nothing when it
    /// is empty): what a presented token needs before the cache, from one conversion to ASCII. No allocation.
    /// </summary>
    public static TokenShape CheckAndHash(ReadOnlySpan<char> token, Span<byte> hash)
    {
        if (token.Length != Length || !token.StartsWith(Prefix, StringComparison.Ordinal) || token[Prefix.Length..].ContainsAnyExcept(LowerHex))
        {
            return TokenShape.Malformed;
        }

        Span<byte> ascii = stackalloc byte[Length];
        System.Text.Ascii.FromUtf16(token, ascii, out _);
        uint expected = 0;
        for (var i = ChecksummedLength; i < Length; i++)
        {
            expected = (expected << 4) | (uint)HexValue((char)ascii[i]);
        }

        if (Crc32.HashToUInt32(ascii[..ChecksummedLength]) != expected)
        {
            return TokenShape.BadChecksum;
        }

        if (!hash.IsEmpty)
        {
            SHA256.HashData(ascii, hash);
        }

        return TokenShape.Valid;
    }

    /// <summary>SHA-256 of the token's ASCII bytes, written into <paramref name="destination"/> (32 bytes).</summary>
    public static void Hash(ReadOnlySpan<char> token, Span<byte> destination)
    {
        Span<byte> ascii = stackalloc byte[Length];
        var written = Encoding.ASCII.GetBytes(token, ascii);
        SHA256.HashData(ascii[..written], destination);
    }

    public static byte[] Hash(string token)
    {
        var hash = new byte[32];
        Hash(token, hash);
        return hash;
    }

    public static string Hint(string token) => token[..HintLength];

    /// <summary>
    /// The public hint of a presented credential when it begins like a Dot token (<c>dot-</c> and 6 lowercase hex
    /// digits), else null: what a refusal may record of a credential, never more.
    /// </summary>
    public static string? HintOf(string? credential)
    {
        if (credential is null || credential.Length < HintLength || !credential.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        for (var i = Prefix.Length; i < HintLength; i++)
        {
            if (!char.IsAsciiHexDigitLower(credential[i]))
            {
                return null;
            }
        }

        return credential[..HintLength];
    }

    private static uint Checksum(ReadOnlySpan<char> chars)
    {
        Span<byte> ascii = stackalloc byte[ChecksummedLength];
        var written = Encoding.ASCII.GetBytes(chars, ascii);
        return Crc32.HashToUInt32(ascii[..written]);
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : c - 'a' + 10;

    private static void WriteHex(ReadOnlySpan<byte> bytes, Span<char> destination)
    {
        const string digits = "0123456789abcdef";
        for (var i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = digits[bytes[i] >> 4];
            destination[(2 * i) + 1] = digits[bytes[i] & 0xF];
        }
    }
}

public enum TokenShape
{
    Valid,
    Malformed,
    BadChecksum,
}
