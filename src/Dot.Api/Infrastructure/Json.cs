using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dot.Api.Infrastructure;

public static class Json
{
    /// <summary>
    /// snake_case names, enums as snake_case strings, a nesting cap, and no unknown field: a typo such as
    /// <c>expiresInDays</c> is a 422 naming it, never a silently dropped expiry (API.md §4).
    /// </summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MaxDepth = 32;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;

        // A field is its exact snake_case name: "Role" beside "role" is an unknown field, not a second value.
        options.PropertyNameCaseInsensitive = false;
    }
}
