using Dot.Api.Access;

namespace Dot.Api.Users;

public sealed class User
{
    /// <summary>The longest email an address may be (RFC 5321's path limit); its normalized copy too.</summary>
    public const int MaxEmailLength = 320;
    public const int MaxNameLength = 200;
    public const int MaxPasswordHashLength = 500;

    public Guid Id { get; set; }

    public required string Email { get; set; }

    /// <summary>Lower-case invariant copy of <see cref="Email"/>, under a unique index.</summary>
    public required string NormalizedEmail { get; set; }

    public required string Name { get; set; }

    public Role Role { get; set; }

    public string? PasswordHash { get; set; }

    public bool Disabled { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}
