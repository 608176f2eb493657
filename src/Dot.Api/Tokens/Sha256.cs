using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Dot.Api.Tokens;

/// <summary>
/// SHA-256 of a short input, for the token hash that every token request computes (<see cref="TokenFormat.Hash(ReadOnlySpan{char}, Span{byte})"/>).
/// <para>
/// On Linux .NET hashes with OpenSSL, and <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> calls <c>EVP_Digest</c>
/// with the legacy <c>EVP_sha256()</c>: OpenSSL 3 then looks the implementation up in its providers on every call
/// (an "implicit fetch") and makes and frees a digest context, which costs about 0.35 µs of the 0.45 µs that a
/// 68-byte token takes here (docs/benchmark.md, "Third round"). Where <c>libcrypto.so.3</c> loads, this fetches the
/// digest once (<c>EVP_MD_fetch</c>, with the library's default properties, so a FIPS configuration still decides
/// which provider hashes) and keeps one digest context per thread: the same OpenSSL code hashes, without the
/// lookup. Elsewhere (Windows, macOS, an OpenSSL before 3) and whenever a call of it fails, it is
/// <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/>.
/// </para>
/// </summary>
internal static unsafe class Sha256
{
    public const int HashSize = 32;

    private static readonly OpenSsl? Native = OpenSsl.TryLoad();

    [ThreadStatic]
    private static DigestContext? t_context;

    /// <summary>Whether the hash is OpenSSL's with the digest fetched once (else the framework's one-shot).</summary>
    public static bool UsesFetchedDigest => Native is not null;

    public static void HashData(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < HashSize)
        {
            throw new ArgumentException($"The destination must hold {HashSize} bytes.", nameof(destination));
        }

        if (Native is not { } native || !native.TryHash(t_context ??= new DigestContext(native), source, destination))
        {
            SHA256.HashData(source, destination);
        }
    }

    /// <summary>One thread's <c>EVP_MD_CTX</c>, freed when the thread (and with it this object) is gone.</summary>
    private sealed class DigestContext(OpenSsl native)
    {
        public nint Handle { get; } = native.NewContext();

        ~DigestContext()
        {
            if (Handle != 0)
            {
                native.FreeContext(Handle);
            }
        }
    }

    /// <summary>The five <c>libcrypto</c> functions, and the SHA-256 digest fetched once.</summary>
    private sealed class OpenSsl
    {
        private readonly delegate* unmanaged<nint> _newContext;
        private readonly delegate* unmanaged<nint, void> _freeContext;
        private readonly delegate* unmanaged<nint, nint, nint, int> _init;
        private readonly delegate* unmanaged<nint, byte*, nuint, int> _update;
        private readonly delegate* unmanaged<nint, byte*, uint*, int> _final;
        private readonly nint _digest;

        private OpenSsl(nint library, nint digest)
        {
            _newContext = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, "EVP_MD_CTX_new");
            _freeContext = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(library, "EVP_MD_CTX_free");
            _init = (delegate* unmanaged<nint, nint, nint, int>)NativeLibrary.GetExport(library, "EVP_DigestInit_ex2");
            _update = (delegate* unmanaged<nint, byte*, nuint, int>)NativeLibrary.GetExport(library, "EVP_DigestUpdate");
            _final = (delegate* unmanaged<nint, byte*, uint*, int>)NativeLibrary.GetExport(library, "EVP_DigestFinal_ex");
            _digest = digest;
        }

        public static OpenSsl? TryLoad()
        {
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libcrypto.so.3", out var library))
            {
                return null;
            }

            try
            {
                var fetch = (delegate* unmanaged<nint, byte*, nint, nint>)NativeLibrary.GetExport(library, "EVP_MD_fetch");
                nint digest;
                fixed (byte* name = "SHA256"u8)
                {
                    digest = fetch(0, name, 0);
                }

                if (digest == 0)
                {
                    return null;
                }

                var native = new OpenSsl(library, digest);
                return native.SelfTest() ? native : null;
            }
            catch (EntryPointNotFoundException)
            {
                return null;
            }
        }

        public nint NewContext() => _newContext();

        public void FreeContext(nint context) => _freeContext(context);

        public bool TryHash(DigestContext context, ReadOnlySpan<byte> source, Span<byte> destination)
        {
            if (context.Handle == 0)
            {
                return false;
            }

            uint written = 0;
            fixed (byte* input = source)
            fixed (byte* output = destination)
            {
                return _init(context.Handle, _digest, 0) == 1
                    && _update(context.Handle, input, (nuint)source.Length) == 1
                    && _final(context.Handle, output, &written) == 1
                    && written == HashSize;
            }
        }

        /// <summary>The answer for a known input must be the framework's, or this path is not used at all.</summary>
        private bool SelfTest()
        {
            var context = new DigestContext(this);
            var input = "dot-self-test"u8;
            Span<byte> ours = stackalloc byte[HashSize];
            Span<byte> theirs = stackalloc byte[HashSize];
            SHA256.HashData(input, theirs);
            var same = TryHash(context, input, ours) && ours.SequenceEqual(theirs);
            GC.KeepAlive(context);
            return same;
        }
    }
}
