using Microsoft.Extensions.Options;

namespace Dot.Api.Sessions;

/// <summary><c>Dot:Setup</c>: how the first admin may be created on the first run, checked at start.</summary>
public sealed class SetupOptions
{
    public const string Section = "Dot:Setup";

    /// <summary>
    /// When set, the first-run form needs this key, from any address. When unset, the form is
    /// accepted only from a loopback address (someone on the server itself).
    /// </summary>
    public string? Key { get; set; }

    public bool KeyRequired => !string.IsNullOrEmpty(Key);

    internal static IEnumerable<string> Check(SetupOptions o)
    {
        // Blanks are most likely a quoting mistake; a key of spaces only would still switch the loopback rule off.
        if (o.KeyRequired && string.IsNullOrWhiteSpace(o.Key))
        {
            yield return $"{Section}:Key must hold more than white space when set; leave it empty to allow the first run from loopback only.";
        }
    }
}

/// <summary>Refuses to start with a <c>Dot:Setup</c> setting that cannot work, naming it.</summary>
internal sealed class SetupOptionsValidator : IValidateOptions<SetupOptions>
{
    public ValidateOptionsResult Validate(string? name, SetupOptions options)
    {
        var failures = SetupOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
