namespace Dot.Api.Access;

/// <summary>API.md §1. Stored and sent as the lower-case name.</summary>
public enum Role
{
    User = 0,
    Modeler = 1,
    Admin = 2,
}

public static class Roles
{
    public const string Admin = "admin";
    public const string Modeler = "modeler";
    public const string User = "user";

    public static string ToName(this Role role) => role switch
    {
        Role.Admin => Admin,
        Role.Modeler => Modeler,
        _ => User,
    };

    public static bool TryParse(string? value, out Role role)
    {
        switch (value)
        {
            case Admin: role = Role.Admin; return true;
            case Modeler: role = Role.Modeler; return true;
            case User: role = Role.User; return true;
            default: role = Role.User; return false;
        }
    }
}
