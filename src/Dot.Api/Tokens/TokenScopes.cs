using Dot.Api.Access;
using Dot.Api.Connections;
using Dot.Api.Validation;

namespace Dot.Api.Tokens;

/// <summary>A requested scope list read against this server's connection types (<c>sync:&lt;type&gt;/&lt;id&gt;</c>), for the API and the CLI.</summary>
public static class TokenScopes
{
    public static IReadOnlyList<string>? Parse(IReadOnlyList<string?>? requested, string field, FieldErrors errors)
        => Scopes.Parse(requested, field, errors, type => ConnectionTypes.IsKnown(type));
}
