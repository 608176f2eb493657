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

    /// <summary><c>person</c> (the default) or <c>service</c>: an account no person signs in as, without a password.</summary>
    public UserKind Kind { get; set; }

    public string? PasswordHash { get; set; }

    public bool Disabled { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }

    public static string Normalize(string email) => email.Trim().ToLowerInvariant();
}

/// <summary>API.md §1. Stored and sent as the lower-case name.</summary>
public enum UserKind
{
    Person = 0,
    Service = 1,
}

public static class UserKinds
{
    public const string Person = "person";
    public const string Service = "service";

    public static string ToName(this UserKind kind) => kind == UserKind.Service ? Service : Person;

    public static bool TryParse(string? value, out UserKind kind)
    {
        switch (value)
        {
            case Person: kind = UserKind.Person; return true;
            case Service: kind = UserKind.Service; return true;
            default: kind = UserKind.Person; return false;
        }
    }
}
