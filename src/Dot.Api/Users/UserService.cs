using System.Security.Cryptography;
using System.Text;
using Dot.Api.Access;
using Dot.Api.Audit;
using Dot.Api.Data;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Dot.Api.Users;

/// <summary>Users and their rules (API.md §1), for the API and the CLI alike.</summary>
public sealed class UserService(DotDbContext db, TimeProvider time, IPasswordHasher<User> hasher, AuditLog audit)
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 256;

    public static void ValidateEmail(string? email, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(email))
        {
            errors.Add("email", "email is required.");
            return;
        }

        var trimmed = email.Trim();
        var at = trimmed.IndexOf('@', StringComparison.Ordinal);
        if (trimmed.Length > User.MaxEmailLength || at <= 0 || at != trimmed.LastIndexOf('@') || at == trimmed.Length - 1
            || trimmed.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            errors.Add("email", "email must be an address such as someone@example.com.");
        }
    }

    public static void ValidateName(string? name, FieldErrors errors)
    {
        if (name is not null && (name.Length > User.MaxNameLength || name.Any(char.IsControl)))
        {
            errors.Add("name", $"name must be at most {User.MaxNameLength} characters, without control characters.");
        }
    }

    public static void ValidatePassword(string? password, FieldErrors errors)
    {
        if (password is not null && password.Length is < MinPasswordLength or > MaxPasswordLength)
        {
            errors.Add("password", $"password must be {MinPasswordLength} to {MaxPasswordLength} characters.");
        }
    }

    /// <summary>A service account has no password: giving one is a field error on <c>password</c>.</summary>
    public static void ValidateServicePassword(UserKind kind, string? password, FieldErrors errors)
    {
        if (kind == UserKind.Service && password is not null)
        {
            errors.Add("password", "A service account has no password: it signs in with its tokens only.");
        }
    }

    public static UserKind ParseKind(string? kind, FieldErrors errors)
    {
        if (kind is null)
        {
            return UserKind.Person;
        }

        if (!UserKinds.TryParse(kind, out var parsed))
        {
            errors.Add("kind", "kind must be person or service.");
        }

        return parsed;
    }

    public static Role? ParseRole(string? role, FieldErrors errors, bool required)
    {
        if (role is null)
        {
            if (required)
            {
                errors.Add("role", "role is required: admin, modeler or user.");
            }

            return null;
        }

        if (Roles.TryParse(role, out var parsed))
        {
            return parsed;
        }

        errors.Add("role", "role must be admin, modeler or user.");
        return null;
    }

    public Task<bool> AnyAsync(CancellationToken cancellationToken) => db.Users.AnyAsync(cancellationToken);

    public Task<User?> FindAsync(Guid id, CancellationToken cancellationToken)
        => db.Users.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);

    public Task<User?> FindByEmailAsync(string email, CancellationToken cancellationToken)
    {
        var normalized = User.Normalize(email);
        return db.Users.FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, cancellationToken);
    }

    /// <summary>Oldest first, from after the key (created_at, id) <paramref name="after"/>.</summary>
    public async Task<List<User>> ListAsync(int limit, (DateTime At, Guid Id)? after, CancellationToken cancellationToken)
    {
        var query = db.Users.AsNoTracking();
        if (after is { } c)
        {
            query = query.Where(u => u.CreatedAt > c.At || (u.CreatedAt == c.At && u.Id.CompareTo(c.Id) > 0));
        }

        return await query.OrderBy(u => u.CreatedAt).ThenBy(u => u.Id).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>Creates a user; null when the email is taken (decided by the unique index).</summary>
    public Task<User?> CreateAsync(string email, string? name, Role role, string? password, CancellationToken cancellationToken)
        => CreateAsync(email, name, role, password, UserKind.Person, cancellationToken);

    /// <summary>As the overload without a kind; a <see cref="UserKind.Service"/> account never has a password.</summary>
    public async Task<User?> CreateAsync(string email, string? name, Role role, string? password, UserKind kind, CancellationToken cancellationToken)
    {
        if (kind == UserKind.Service && password is not null)
        {
            throw new ArgumentException("A service account has no password.", nameof(password));
        }

        var now = time.GetUtcNow().UtcDateTime;
        var trimmed = email.Trim();
        var user = new User
        {
            Id = Guid.CreateVersion7(),
            Email = trimmed,
            NormalizedEmail = User.Normalize(trimmed),
            Name = string.IsNullOrWhiteSpace(name) ? trimmed[..trimmed.IndexOf('@', StringComparison.Ordinal)] : name.Trim(),
            Role = role,
            Kind = kind,
            CreatedAt = now,
            UpdatedAt = now,
        };
        if (password is not null)
        {
            user.PasswordHash = hasher.HashPassword(user, password);
        }

        if (await db.Users.AnyAsync(u => u.NormalizedEmail == user.NormalizedEmail, cancellationToken))
        {
            return null;
        }

        db.Users.Add(user);
        audit.Add(AuditEventTypes.UserCreated, user.Id, user.Email, kind == UserKind.Service ? $"{user.Role.ToName()}, service account" : user.Role.ToName());
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.Entry(user).State = EntityState.Detached;
            if (await db.Users.AsNoTracking().AnyAsync(u => u.NormalizedEmail == user.NormalizedEmail, cancellationToken))
            {
                return null;
            }

            throw;
        }

        return user;
    }

    public void SetPassword(User user, string password) => user.PasswordHash = hasher.HashPassword(user, password);

    /// <summary>
    /// The user whose email and password these are, or null — for an unknown email, a user without a
    /// password or a wrong password alike, after the same hashing work, so the answer and its timing
    /// do not tell whether the email exists. Disabled users are returned: the caller decides.
    /// </summary>
    public async Task<User?> CheckPasswordAsync(string email, string password, CancellationToken cancellationToken)
    {
        var user = await FindByEmailAsync(email, cancellationToken);
        if (user?.PasswordHash is not { } hash || user.Kind == UserKind.Service)
        {
            _ = hasher.VerifyHashedPassword(Placeholder, PlaceholderHash(), password);
            return null;
        }

        switch (hasher.VerifyHashedPassword(user, hash, password))
        {
            case PasswordVerificationResult.Success:
                return user;
            case PasswordVerificationResult.SuccessRehashNeeded:
                SetPassword(user, password);
                await SaveAsync(user, cancellationToken);
                return user;
            default:
                return null;
        }
    }

    /// <summary>
    /// Creates the first user, an admin, only while no user exists. The check and the insert run under the
    /// <see cref="WriteLock.FirstRun"/> lock, so two first-run forms sent at once cannot both win, on SQLite or
    /// PostgreSQL. Null when a user exists.
    /// </summary>
    public async Task<User?> CreateFirstAdminAsync(string email, string? name, string password, CancellationToken cancellationToken)
    {
        return await db.TransactAsync(async (transaction, ct) =>
        {
            if (await db.Users.AnyAsync(ct))
            {
                return null;
            }

            var user = await CreateAsync(email, name, Role.Admin, password, ct);
            await transaction.CommitAsync(ct);
            return user;
        }, cancellationToken, lockName: WriteLock.FirstRun);
    }

    /// <summary>
    /// A short fingerprint of the password hash. A web session remembers it; when the password is
    /// changed (by the user, an admin or the CLI), sessions signed in with the old one end.
    /// </summary>
    public static string PasswordStamp(string? passwordHash)
        => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(passwordHash ?? string.Empty)), 0, 8);

    private static readonly User Placeholder = new() { Email = "placeholder@invalid", NormalizedEmail = "placeholder@invalid", Name = "placeholder" };

    private static string? _placeholderHash;

    /// <summary>A hash of a random password, made once with this hasher's settings, to spend the same work on misses.</summary>
    private string PlaceholderHash()
        => _placeholderHash ??= hasher.HashPassword(Placeholder, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)));

    /// <summary>Whether another enabled admin remains if the user <paramref name="userId"/> stops being one.</summary>
    public Task<bool> AnotherActiveAdminExistsAsync(Guid userId, CancellationToken cancellationToken)
        => db.Users.AnyAsync(u => u.Id != userId && u.Role == Role.Admin && !u.Disabled, cancellationToken);

    /// <summary>
    /// Runs a change that may take away an enabled admin (demote, disable, delete) under the
    /// <see cref="WriteLock.Admins"/> lock: reading the user, checking <see cref="AnotherActiveAdminExistsAsync"/>
    /// and writing are one transaction that no other such change interleaves with, so two admins disabling
    /// each other at once leave one of them enabled.
    /// </summary>
    public Task<T> UnderAdminsLockAsync<T>(Func<Task<T>> change, CancellationToken cancellationToken)
        => db.TransactAsync(async (transaction, ct) =>
        {
            var result = await change();
            await transaction.CommitAsync(ct);
            return result;
        }, cancellationToken, lockName: WriteLock.Admins);

    /// <summary>
    /// Saves a change of the user and publishes it (<see cref="ChangeNotifications.PublishAsync"/>) in its transaction
    /// (the caller's, such as <see cref="UnderAdminsLockAsync{T}"/>'s, when there is one): what was derived from the user
    /// (its verified tokens) is dropped on this instance once that transaction commits, and on every other one on
    /// PostgreSQL, so the next request re-reads role, disabled flag and existence.
    /// </summary>
    public async Task SaveAsync(User user, CancellationToken cancellationToken)
    {
        user.UpdatedAt = time.GetUtcNow().UtcDateTime;
        var entry = db.Entry(user);
        if (entry.Property(u => u.Role).OriginalValue is var oldRole && oldRole != user.Role)
        {
            audit.Add(AuditEventTypes.UserRoleChanged, user.Id, user.Email, $"{oldRole.ToName()} → {user.Role.ToName()}");
        }

        if (entry.Property(u => u.Disabled).OriginalValue != user.Disabled)
        {
            audit.Add(user.Disabled ? AuditEventTypes.UserDisabled : AuditEventTypes.UserEnabled, user.Id, user.Email);
        }

        await db.SaveChangesAndPublishAsync(ChangeNotice.User(user.Id), cancellationToken);
    }

    /// <summary>Deletes the user (their tokens go with them), published as <see cref="SaveAsync"/> is.</summary>
    public async Task DeleteAsync(User user, CancellationToken cancellationToken)
    {
        db.Users.Remove(user);
        audit.Add(AuditEventTypes.UserDeleted, user.Id, user.Email);
        await db.SaveChangesAndPublishAsync(ChangeNotice.User(user.Id), cancellationToken);
    }
}
