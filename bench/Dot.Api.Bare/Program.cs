using System.Text.Json;
using System.Text.Json.Serialization;

// CreateSlimBuilder and one MapGet: Kestrel, routing and System.Text.Json, nothing of the product. The body has the
// fields and the snake_case names of /api/auth/me's answer. /stats reports the allocation counter, as the bench host's
// /bench/stats does, so that run.sh prints bytes per request for this row too, and the GC's committed memory.
// `hello`: print and exit, the floor under any .NET command's time (bench/run.sh times it beside the CLI's).
if (args is ["hello"])
{
    Console.WriteLine("hello");
    return;
}

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Services.ConfigureHttpJsonOptions(o =>
{
    o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
    o.SerializerOptions.TypeInfoResolverChain.Insert(0, BareJson.Default);
});
var app = builder.Build();

var id = Guid.Parse("01a23400-0000-7000-8000-000000000001");
var tokenId = Guid.Parse("01a23400-0000-7000-8000-000000000002");
var expiresAt = new DateTime(2027, 1, 1, 0, 0, 0, DateTimeKind.Utc);
string[] scopes = ["*"];
app.MapGet("/me", () => new Me(id, "bench@example.com", "Bench", "admin", new AuthInfo("header", tokenId, "bench", expiresAt, scopes)));
app.MapGet("/stats", () => new Stats(GC.GetTotalAllocatedBytes(precise: false), GC.GetGCMemoryInfo().TotalCommittedBytes, System.Runtime.GCSettings.IsServerGC));
app.Run();

internal sealed record AuthInfo(string Method, Guid? TokenId, string? TokenName, DateTime? ExpiresAt, IReadOnlyList<string> Scopes);

internal sealed record Me(Guid Id, string Email, string Name, string Role, AuthInfo Auth);

internal sealed record Stats(long AllocatedBytes, long GcCommittedBytes, bool ServerGc);

[JsonSerializable(typeof(Me))]
[JsonSerializable(typeof(Stats))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
internal sealed partial class BareJson : JsonSerializerContext;
