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
        options.Converters.Add(new NoNulStringConverter());
    }

    /// <summary>What a JSON string with a NUL character is refused with (the error handler makes it a 422 naming the field).</summary>
    public const string NulMessage = "The value contains a NUL character (\\u0000), which no field accepts.";

    /// <summary>
    /// Refuses a NUL character in any string of a body, on either store alike: PostgreSQL cannot keep one in text
    /// (it would be a 500 there) and on SQLite it would cut the value short for most readers.
    /// </summary>
    private sealed class NoNulStringConverter : JsonConverter<string>
    {
        public override bool HandleNull => false;

        public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = reader.GetString();
            return value is not null && value.Contains('\0', StringComparison.Ordinal) ? throw new JsonException(NulMessage) : value;
        }

        public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
    }
}
