using System.Security.Claims;

namespace Dot.Api.Access;

/// <summary>
/// The one place scopes are enforced (API.md §2): an unscoped caller (an unscoped token, a web session) passes; a scoped
/// token passes when it holds the endpoint's <see cref="RequiredScopeMetadata"/> scope or the narrower one it allows for
/// this request. An endpoint that declares no scope admits no scoped token at all.
/// </summary>
public static class ScopeRule
{
    /// <summary>
    /// Null when <paramref name="user"/> may call the request's endpoint as far as scopes go; otherwise what the refusal
    /// answers. Synchronous unless the endpoint resolves a narrower scope from stored data.
    /// </summary>
    public static ValueTask<ScopeRefusal?> CheckAsync(ClaimsPrincipal user, HttpContext http, RequiredScopeMetadata? required)
    {
        if (user.Scopes() is not { } granted)
        {
            return ValueTask.FromResult<ScopeRefusal?>(null);
        }

        if (required is null)
        {
            return ValueTask.FromResult<ScopeRefusal?>(new ScopeRefusal(Scopes.All, null));
        }

        if (Scopes.Allows(granted, required.Scope))
        {
            return ValueTask.FromResult<ScopeRefusal?>(null);
        }

        return required.Narrow is { } resolve
            ? NarrowAsync(resolve(http), granted, required)
            : ValueTask.FromResult<ScopeRefusal?>(new ScopeRefusal(required.Scope, null));
    }

    private static async ValueTask<ScopeRefusal?> NarrowAsync(ValueTask<string?> resolving, IReadOnlySet<string> granted, RequiredScopeMetadata required)
    {
        var narrow = await resolving;
        if (narrow is not null && granted.Contains(narrow))
        {
            return null;
        }

        // A narrow scope read from stored data is not named to a caller it does not cover (API.md §2 lists who may see what).
        return required.HiddenRefusal is { } refusal ? new ScopeRefusal(required.Scope, refusal) : new ScopeRefusal(narrow ?? required.Scope, null);
    }
}

/// <summary>What a refusal for want of a scope answers: the scope in <c>required_scope</c>, and its sentence.</summary>
public sealed record ScopeRefusal(string Needed, string? HiddenDetail)
{
    public string Detail => HiddenDetail ?? (Needed == Scopes.All
        ? "Forbidden: this endpoint takes no scoped token; use a token without scopes."
        : Needed.StartsWith(Scopes.Sync + ":", StringComparison.Ordinal)
            ? $"Forbidden: the token lacks the scope '{Needed}' (or '{Scopes.Sync}') this endpoint needs."
            : $"Forbidden: the token lacks the scope '{Needed}' this endpoint needs.");
}
