using Dot.Api.Data;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Tokens;

/// <summary>What authentication needs to know of a token and its owner, as they are now.</summary>
public sealed record VerifiedToken(
    Guid TokenId,
    string TokenName,
    DateTime? ExpiresAt,
    DateTime? RevokedAt,
    DateTime? GraceEndsAt,
    Guid UserId,
    string Email,
    string UserName,
    Role Role,
    bool Disabled);

/// <summary>Finds a token by its hash: one compiled query joining the owner.</summary>
public sealed class TokenLookup(IServiceScopeFactory scopes)
{
    private static readonly Func<DotDbContext, byte[], CancellationToken, Task<VerifiedToken?>> ByHash =
        EF.CompileAsyncQuery((DotDbContext db, byte[] hash, CancellationToken _) =>
            db.ApiTokens.AsNoTracking()
                .Where(t => t.Hash == hash)
                .Select(t => new VerifiedToken(t.Id, t.Name, t.ExpiresAt, t.RevokedAt, t.GraceEndsAt,
                    t.UserId, t.User!.Email, t.User.Name, t.User.Role, t.User.Disabled))
                .FirstOrDefault());

    public async Task<VerifiedToken?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DotDbContext>();
        return await ByHash(db, hash, cancellationToken);
    }
}
