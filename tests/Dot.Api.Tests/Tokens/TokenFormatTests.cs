using System.IO.Hashing;
using System.Text;
using Dot.Api.Tokens;

namespace Dot.Api.Tests;

[Trait("Store", "any")]
public sealed class TokenFormatTests
{
    [Fact]
    public void GeneratedTokensHaveTheContractFormat()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 1000; i++)
        {
            var token = TokenFormat.Generate();
            Assert.Matches("^dot-[0-9a-f]{64}$", token);
            Assert.Equal(TokenShape.Valid, TokenFormat.Check(token));
            Assert.True(seen.Add(token));

            // The last 8 hex digits are the CRC-32 (IEEE) of the first 60 characters, big-endian hex.
            var crc = Crc32.HashToUInt32(Encoding.ASCII.GetBytes(token[..60]));
            Assert.Equal(crc.ToString("x8", System.Globalization.CultureInfo.InvariantCulture), token[60..]);
        }
    }

    [Fact]
    public void EverySingleCharacterTypoIsCaught()
    {
        var token = TokenFormat.Generate();
        for (var i = 4; i < token.Length; i++)
        {
            foreach (var c in "0123456789abcdef")
            {
                if (c == token[i])
                {
                    continue;
                }

                var typo = string.Concat(token.AsSpan(0, i), c.ToString(), token.AsSpan(i + 1));
                Assert.Equal(TokenShape.BadChecksum, TokenFormat.Check(typo));
            }
        }
    }

    [Fact]
    public void HashIsSha256OfTheWholeToken()
    {
        var token = TokenFormat.Generate();
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(Encoding.ASCII.GetBytes(token)), TokenFormat.Hash(token));
    }

    [Fact]
    public void CheckingAndHashingAllocateNothing()
    {
        var token = TokenFormat.Generate();
        Span<byte> hash = stackalloc byte[32];
        TokenFormat.Check(token);
        TokenFormat.Hash(token, hash); // warm up

        var accented = "dot-" + new string('\u00e9', 64);
        TokenFormat.CheckAndHash(token, hash);
        TokenFormat.CheckAndHash(accented, hash);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            TokenFormat.Check(token);
            TokenFormat.Hash(token, hash);
            TokenFormat.CheckAndHash(token, hash);
            TokenFormat.CheckAndHash(accented, hash);
            TokenHashKey.From(hash);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void CheckAndHashAgreesWithCheckAndWithHash()
    {
        var token = TokenFormat.Generate();
        var hash = new byte[32];
        Assert.Equal(TokenShape.Valid, TokenFormat.CheckAndHash(token, hash));
        Assert.Equal(TokenFormat.Hash(token), hash);

        // Not a token: no hash is written, and the verdict is Check's.
        string[] refused = [token[..^1] + (token[^1] == '0' ? '1' : '0'), token.ToUpperInvariant(), "dot-" + new string('\u00e9', 64), token[..67], token + "0", ""];
        foreach (var bad in refused)
        {
            var untouched = new byte[32];
            Assert.Equal(TokenFormat.Check(bad), TokenFormat.CheckAndHash(bad, untouched));
            Assert.NotEqual(TokenShape.Valid, TokenFormat.Check(bad));
            Assert.All(untouched, b => Assert.Equal(0, b));
        }
    }
}
