using Dot.Api.Users;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>The forms of <c>user_id</c> a URL token may come with (API.md §3), as theory data.</summary>
public static class QueryToken
{
    public static TheoryData<string> UserIdForms => new() { "email", "encoded-email", "upper-email", "id" };

    /// <summary><c>?user_id=…&amp;api_token=…</c> with <paramref name="user"/> named in the given form.</summary>
    public static string For(User user, string token, string form)
    {
        var userId = form switch
        {
            "email" => user.Email,
            "encoded-email" => Uri.EscapeDataString(user.Email),
            "upper-email" => user.Email.ToUpperInvariant(),
            "id" => user.Id.ToString(),
            _ => throw new ArgumentOutOfRangeException(nameof(form), form, null),
        };
        return $"user_id={userId}&api_token={token}";
    }
}
