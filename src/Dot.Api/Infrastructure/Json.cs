using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dot.Api.Infrastructure;

public static class Json
{
    /// <summary>snake_case names, enums as snake_case strings, a nesting cap.</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        options.MaxDepth = 32;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }
}
