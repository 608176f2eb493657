namespace Dot.Api.Sessions;

/// <summary><c>Dot:Setup</c>: how the first admin may be created on the first run.</summary>
public sealed class SetupOptions
{
    public const string Section = "Dot:Setup";

    /// <summary>
    /// When set, the first-run form needs this key, from any address. When unset, the form is
    /// accepted only from a loopback address (someone on the server itself).
    /// </summary>
    public string? Key { get; set; }

    public bool KeyRequired => !string.IsNullOrEmpty(Key);
}
