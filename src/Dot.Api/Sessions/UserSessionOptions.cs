using Microsoft.Extensions.Options;

namespace Dot.Api.Sessions;

/// <summary><c>Dot:Sessions</c>: how long a web session may last, checked at start.</summary>
public sealed class UserSessionOptions
{
    public const string Section = "Dot:Sessions";

    public const int MinAbsoluteLifetimeHours = 1;
    public const int MaxAbsoluteLifetimeHours = 720;

    /// <summary>
    /// A session ends this long after sign-in, however active it is. Independently, it ends after
    /// <see cref="SessionDefaults.IdleTimeout"/> without a request.
    /// </summary>
    public int AbsoluteLifetimeHours { get; set; } = 24;

    public TimeSpan AbsoluteLifetime => TimeSpan.FromHours(AbsoluteLifetimeHours);

    internal static IEnumerable<string> Check(UserSessionOptions o)
    {
        if (o.AbsoluteLifetimeHours is < MinAbsoluteLifetimeHours or > MaxAbsoluteLifetimeHours)
        {
            yield return $"Dot:Sessions:AbsoluteLifetimeHours must be between {MinAbsoluteLifetimeHours} and {MaxAbsoluteLifetimeHours} (hours); it is {o.AbsoluteLifetimeHours}.";
        }
    }
}

/// <summary>Refuses to start with a <c>Dot:Sessions</c> setting that cannot work, naming it.</summary>
internal sealed class UserSessionOptionsValidator : IValidateOptions<UserSessionOptions>
{
    public ValidateOptionsResult Validate(string? name, UserSessionOptions options)
    {
        var failures = UserSessionOptions.Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
