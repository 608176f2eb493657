using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Audit;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Dot.Api.Users;
using Dot.Api.Validation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dot.Api.Tokens;

/// <summary>Creating, listing, revoking and rotating tokens: the rules of API.md §2, for the API and the CLI alike.</summary>
public sealed class TokenService(DotDbContext db, TimeProvider time, IOptions<TokenOptions> options, AuditLog audit)
{
    public const int MaxDays = 3650;

    /// <summary>
    /// The longest grace a rotation may give the old token: 7 days, as the API's <c>grace_period_minutes</c> and the
    /// CLI's <c>--grace</c> both allow.
    /// </summary>
    public const int MaxGraceMinutes = 7 * 24 * 60;

    public static readonly TimeSpan MaxGrace = TimeSpan.FromMinutes(MaxGraceMinutes);

    public DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>What a client may ask for when it creates a token (<c>Dot:Tokens:MaxLifetimeDays</c>).</summary>
    public TokenPolicyDto Policy => new(options.Value.MaxLifetimeDays, options.Value.MaxLifetimeDays is null, MaxDays);

    /// <summary>
    /// Works out <c>expires_at</c> from at most one of a lifetime or an instant; neither means never,
    /// unless <c>Dot:Tokens:MaxLifetimeDays</c> is set, which then is the default and the ceiling.
    /// </summary>
    public DateTime? ResolveExpiry(TimeSpan? lifetime, DateTime? expiresAt, string lifetimeField, string atField, FieldErrors errors)
    {
        var now = Now;
        var max = options.Value.MaxLifetimeDays;
        DateTime? result;
        if (lifetime is not null && expiresAt is not null)
        {
            errors.Add(atField, $"Give {lifetimeField} or {atField}, not both.");
            return null;
        }

        if (lifetime is { } span)
        {
            if (span <= TimeSpan.Zero || span > TimeSpan.FromDays(MaxDays))
            {
                errors.Add(lifetimeField, $"{lifetimeField} must be a positive lifetime of at most {MaxDays} days.");
                return null;
            }

            result = now + span;
        }
        else if (expiresAt is { } at)
        {
            var utc = at.Kind == DateTimeKind.Local ? at.ToUniversalTime() : DateTime.SpecifyKind(at, DateTimeKind.Utc);
            if (utc <= now)
            {
                errors.Add(atField, $"{atField} must be in the future.");
                return null;
            }

            if (utc > now.AddDays(MaxDays))
            {
                errors.Add(atField, $"{atField} must be within {MaxDays} days.");
                return null;
            }

            result = utc;
        }
        else
        {
            return max is { } days ? now.AddDays(days) : null;
        }

        if (max is { } maxDays && result > now.AddDays(maxDays))
        {
            errors.Add(lifetime is null ? atField : lifetimeField, $"This server allows tokens of at most {maxDays} days.");
            return null;
        }

        return result;
    }

    public static void ValidateText(string? name, string? description, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add("name", "name is required.");
        }
        else if (name.Length > ApiToken.MaxNameLength || name.Any(char.IsControl))
        {
            errors.Add("name", $"name must be at most {ApiToken.MaxNameLength} characters, without control characters.");
        }

        if (description is not null && (description.Length > ApiToken.MaxDescriptionLength || description.Any(char.IsControl)))
        {
            errors.Add("description", $"description must be at most {ApiToken.MaxDescriptionLength} characters, without control characters (line breaks included).");
        }
    }

    /// <summary>
    /// Mints a token (API.md §2) unless <paramref name="minter"/> may not (<see cref="Minting"/>: its scopes and
    /// allowed_ips must cover the new token's; null is the command line) or the owner already has an active or rotating
    /// token of that name (compared case-insensitively; revoked and expired ones do not count): then nothing is written.
    /// The check and the insert hold <see cref="WriteLock.TokenNames"/>, so two creates of one name at once make one token.
    /// </summary>
    public async Task<MintResult> TryCreateAsync(ClaimsPrincipal? minter, Guid ownerId, string name,
        string? description, DateTime? expiresAt, TokenRestrictions restrictions, CancellationToken cancellationToken)
    {
        if (Minting.Refusal(minter, restrictions.Scopes, restrictions.Networks) is { } refused)
        {
            return new MintResult.Refused(refused);
        }

        return await db.TransactAsync<MintResult>(async (transaction, ct) =>
        {
            if (await NameInUseAsync(ownerId, name, ct))
            {
                return new MintResult.NameTaken(name.Trim());
            }

            var created = await CreateAsync(ownerId, minter?.UserId(), name, description, expiresAt, restrictions, ct);
            await transaction.CommitAsync(ct);
            return created;
        }, cancellationToken, lockName: WriteLock.TokenNames);
    }

    /// <summary>Whether the owner has an active or rotating token of that name, case-insensitively.</summary>
    public async Task<bool> NameInUseAsync(Guid ownerId, string name, CancellationToken cancellationToken)
    {
        var now = Now;
        var wanted = name.Trim();
        var live = await db.ApiTokens.AsNoTracking()
            .Where(t => t.UserId == ownerId && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now))
            .Select(t => new { t.Name, t.RevokedAt, t.ExpiresAt, t.GraceEndsAt })
            .ToListAsync(cancellationToken);
        return live.Any(t => string.Equals(t.Name, wanted, StringComparison.OrdinalIgnoreCase)
            && TokenRules.StatusAt(t.RevokedAt, t.ExpiresAt, t.GraceEndsAt, now) is TokenStatus.Active or TokenStatus.Rotating);
    }

    /// <summary>
    /// The one place a secret is generated: callers have asked <see cref="Minting"/> first (<see cref="TryCreateAsync"/>,
    /// <see cref="RotateAsync"/>). Creates without the name check: a rotation's successor keeps its predecessor's name.
    /// </summary>
    private async Task<MintResult.Minted> CreateAsync(Guid ownerId, Guid? createdBy, string name,
        string? description, DateTime? expiresAt, TokenRestrictions restrictions, CancellationToken cancellationToken)
    {
        var plaintext = TokenFormat.Generate();
        var token = new ApiToken
        {
            Id = Guid.CreateVersion7(),
            UserId = ownerId,
            Name = name.Trim(),
            Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim(),
            Hash = TokenFormat.Hash(plaintext),
            Hint = TokenFormat.Hint(plaintext),
            CreatedAt = Now,
            CreatedBy = createdBy,
            ExpiresAt = expiresAt,
            Scopes = Access.Scopes.ToStored(restrictions.Scopes),
            AllowedIps = Tokens.AllowedIps.ToStored(restrictions.AllowedIps),
        };
        db.ApiTokens.Add(token);
        audit.Add(AuditEventTypes.TokenCreated, ownerId, token.Id.ToString(),
            $"{token.Hint} \"{token.Name}\"{await OwnerNoteAsync(ownerId, cancellationToken)}{Restricted(token)}");
        await db.SaveChangesAsync(cancellationToken);
        return new MintResult.Minted(token, plaintext);
    }

    public async Task<List<ApiToken>> ListAsync(Guid ownerId, CancellationToken cancellationToken)
        => await db.ApiTokens.AsNoTracking()
            .Where(t => t.UserId == ownerId)
            .OrderByDescending(t => t.CreatedAt)
            .ToListAsync(cancellationToken);

    public Task<ApiToken?> FindAsync(Guid id, CancellationToken cancellationToken)
        => db.ApiTokens.FirstOrDefaultAsync(t => t.Id == id, cancellationToken);

    /// <summary>
    /// Revokes the token and every predecessor of it still in a rotation grace period (API.md §2: after a revoke no
    /// secret of the rotation family works); revoking a revoked token changes nothing and is not an error. Each revoked
    /// secret is published as a change (<see cref="ChangeNotifications.PublishAsync"/>): evicted here once the
    /// transaction commits, and on PostgreSQL notified to every other instance on commit.
    /// </summary>
    public async Task RevokeAsync(ApiToken token, CancellationToken cancellationToken)
    {
        var now = Now;
        var ownerNote = await OwnerNoteAsync(token.UserId, cancellationToken);
        await db.TransactAsync(async (transaction, ct) =>
        {
            var revoked = 0;
            if (await db.ApiTokens.Where(t => t.Id == token.Id && t.RevokedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), ct) == 1)
            {
                revoked++;
                await db.PublishAsync(ChangeNotice.Token(token.Hash), ct);
            }

            var predecessors = new List<(Guid Id, byte[] Hash, string Hint)>();
            for (var ids = new List<Guid> { token.Id }; ids.Count > 0;)
            {
                var found = await db.ApiTokens.AsNoTracking()
                    .Where(t => t.ReplacedBy != null && ids.Contains(t.ReplacedBy.Value))
                    .Select(t => new { t.Id, t.Hash, t.Hint, t.RevokedAt, t.GraceEndsAt })
                    .ToListAsync(ct);
                ids = [.. found.Select(t => t.Id).Except(predecessors.Select(p => p.Id))];
                predecessors.AddRange(found.Where(t => t.RevokedAt == null && t.GraceEndsAt > now).Select(t => (t.Id, t.Hash, t.Hint)));
            }

            foreach (var (id, hash, _) in predecessors)
            {
                await db.ApiTokens.Where(t => t.Id == id && t.RevokedAt == null)
                    .ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), ct);
                await db.PublishAsync(ChangeNotice.Token(hash), ct);
            }

            if (revoked + predecessors.Count > 0)
            {
                audit.Add(AuditEventTypes.TokenRevoked, token.UserId, token.Id.ToString(), token.Hint + ownerNote
                    + (predecessors.Count == 0 ? string.Empty : $", with the rotated-out {string.Join(", ", predecessors.Select(p => p.Hint))} still in grace"));
                await db.SaveChangesAsync(ct);
            }

            await transaction.CommitAsync(ct);
            return revoked;
        }, cancellationToken);
        token.RevokedAt ??= now;
    }

    /// <summary>What a refused rotation answers, for the API and the CLI alike.</summary>
    public const string NotActiveForRotation = "This token is not active (revoked, rotated or expired, perhaps meanwhile): only an active token can be rotated.";

    /// <summary>
    /// Mints a new secret with the same name, description, owner, restrictions and lifetime length — clamped to
    /// <c>Dot:Tokens:MaxLifetimeDays</c> as it is now, so a never-expiring token rotated under a maximum gets
    /// that maximum; the old one keeps working for <paramref name="grace"/> (status <c>rotating</c>), then stops.
    /// Rotating is minting (<see cref="Minting"/>): <paramref name="minter"/> (null: the command line) may rotate only a
    /// token whose scopes and allowed_ips lie within its own. <see cref="MintResult.NotActive"/> when the token is not
    /// active — revoked, rotated or expired, before or meanwhile: the one rule, decided by the database (a conditional
    /// update checked for one row), so of two rotations at once the other makes nothing. The old token is published as
    /// a change, grace or none: with no grace it stops at once everywhere; with grace the caches re-read its end.
    /// </summary>
    public async Task<MintResult> RotateAsync(ClaimsPrincipal? minter, ApiToken old, TimeSpan grace, CancellationToken cancellationToken)
    {
        var restrictions = TokenRestrictions.FromStored(old.Scopes, old.AllowedIps);
        if (Minting.Refusal(minter, restrictions.Scopes, restrictions.Networks) is { } refused)
        {
            return new MintResult.Refused(refused);
        }

        var now = Now;
        if (old.StatusAt(now) != TokenStatus.Active)
        {
            return MintResult.NotActive.Instance;
        }

        var expiresAt = RotatedExpiry(old, now);
        DateTime? revokedAt = grace <= TimeSpan.Zero ? now : null;
        DateTime? graceEndsAt = grace <= TimeSpan.Zero ? null : now + grace;
        var rotated = await db.TransactAsync<MintResult>(async (transaction, ct) =>
        {
            var minted = await CreateAsync(old.UserId, minter?.UserId(), old.Name, old.Description, expiresAt, restrictions, ct);
            var claimed = await db.ApiTokens
                .Where(t => t.Id == old.Id && t.ReplacedBy == null && t.RevokedAt == null && t.GraceEndsAt == null
                    && (t.ExpiresAt == null || t.ExpiresAt > now))
                .ExecuteUpdateAsync(set => set
                    .SetProperty(t => t.ReplacedBy, minted.Token.Id)
                    .SetProperty(t => t.RevokedAt, revokedAt)
                    .SetProperty(t => t.GraceEndsAt, graceEndsAt), ct);
            if (claimed != 1)
            {
                // Rolled back with the transaction: the successor and its audit event are not kept.
                db.ChangeTracker.Clear();
                return MintResult.NotActive.Instance;
            }

            audit.Add(AuditEventTypes.TokenRotated, old.UserId, old.Id.ToString(),
                $"{old.Hint} → {minted.Token.Hint}, grace {grace.TotalMinutes:0} min{await OwnerNoteAsync(old.UserId, ct)}");
            await db.SaveChangesAsync(ct);
            await db.PublishAsync(ChangeNotice.Token(old.Hash), ct);
            await transaction.CommitAsync(ct);
            return minted;
        }, cancellationToken);
        if (rotated is MintResult.Minted done)
        {
            (old.ReplacedBy, old.RevokedAt, old.GraceEndsAt) = (done.Token.Id, revokedAt, graceEndsAt);
        }

        return rotated;
    }

    /// <summary>The old lifetime's length from now, never beyond <c>Dot:Tokens:MaxLifetimeDays</c> as it is now.</summary>
    private DateTime? RotatedExpiry(ApiToken old, DateTime now)
    {
        DateTime? expiresAt = old.ExpiresAt is { } exp ? now + (exp - old.CreatedAt) : null;
        return options.Value.MaxLifetimeDays is { } maxDays && (expiresAt is null || expiresAt > now.AddDays(maxDays))
            ? now.AddDays(maxDays)
            : expiresAt;
    }

    /// <summary>", service account" when the token's owner is one, so the audit names it as such.</summary>
    private async Task<string> OwnerNoteAsync(Guid ownerId, CancellationToken cancellationToken)
        => await db.Users.AsNoTracking().AnyAsync(u => u.Id == ownerId && u.Kind == UserKind.Service, cancellationToken)
            ? ", service account"
            : string.Empty;

    private static string Restricted(ApiToken token)
        => (token.Scopes is { } scopes ? $", scopes {scopes}" : string.Empty)
            + (token.AllowedIps is { } ips ? $", allowed_ips {ips}" : string.Empty);

    /// <summary>A user by id or by email (case-insensitive).</summary>
    public Task<User?> FindUserAsync(string idOrEmail, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(idOrEmail, out var id))
        {
            return db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        }

        var normalized = User.Normalize(idOrEmail);
        return db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken);
    }
}

/// <summary>A token's optional restrictions (API.md §2), canonical: null scopes mean everything the role allows, null networks anywhere.</summary>
public sealed record TokenRestrictions(IReadOnlyList<string>? Scopes, IReadOnlyList<string>? AllowedIps)
{
    public static readonly TokenRestrictions None = new(null, null);

    /// <summary>The allowed networks parsed, for <see cref="Minting"/>; null: from anywhere.</summary>
    public IReadOnlyList<System.Net.IPNetwork>? Networks => Tokens.AllowedIps.Networks(Tokens.AllowedIps.ToStored(AllowedIps));

    public static TokenRestrictions FromStored(string? scopes, string? allowedIps)
        => new(Access.Scopes.FromStored(scopes), Tokens.AllowedIps.FromStored(allowedIps));
}

/// <summary>What minting a token (<see cref="TokenService.TryCreateAsync"/>, <see cref="TokenService.RotateAsync"/>) came to.</summary>
public abstract record MintResult
{
    private MintResult()
    {
    }

    /// <summary>The new token, and its plaintext: shown once, never stored.</summary>
    public sealed record Minted(ApiToken Token, string Plaintext) : MintResult;

    /// <summary>The caller may not mint it (<see cref="Minting"/>): the 403 to answer.</summary>
    public sealed record Refused(ForbiddenProblem Problem) : MintResult;

    /// <summary>The owner already has an active or rotating token of that name.</summary>
    public sealed record NameTaken(string Name) : MintResult;

    /// <summary>The token to rotate is not active (revoked, rotated or expired, perhaps meanwhile).</summary>
    public sealed record NotActive : MintResult
    {
        public static readonly NotActive Instance = new();
    }
}
