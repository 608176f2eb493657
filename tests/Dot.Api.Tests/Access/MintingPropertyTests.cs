using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CsCheck;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Dot.Api.Tests;

/// <summary>
/// API.md §2's invariant, "no credential produces a broader one", as a property: random scoped and address-bound
/// tokens run random sequences of token, user and session operations over HTTP, each credential that comes out joins
/// the pool of callers, and none that comes out is broader than the one that went in.
/// </summary>
public sealed class MintingPropertyTests(ITestOutputHelper output)
{
    private const string Password = "correct horse battery staple";
    private const string Client = "203.0.113.7";

    private static readonly string[][] ScopeChoices =
        [[Scopes.Tokens], [Scopes.Tokens, Scopes.Users], [Scopes.Tokens, Scopes.Chats], [Scopes.Users], [Scopes.Chats, Scopes.History], [Scopes.Tokens, Scopes.Users, Scopes.Chats]];

    private static readonly string[][] NetworkChoices =
        [["203.0.113.0/24"], ["203.0.113.7"], ["203.0.113.0/24", "198.51.100.0/24"], ["198.51.100.0/24"]];

    /// <summary>A credential in the pool: its secret and what it may do (null: no limit).</summary>
    private sealed record Credential(string Token, Guid Id, Guid Owner, IReadOnlySet<string>? Scopes, IReadOnlyList<System.Net.IPNetwork>? Networks);

    private enum Kind
    {
        CreateOwn,
        CreateForOther,
        Rotate,
        CreateUserWithPassword,
        SetPassword,
        SignIn,
    }

    private sealed record Operation(Kind Kind, int Caller, int Target, string[]? Scopes, string[]? Networks)
    {
        public override string ToString()
            => $"{Kind} by #{Caller} on #{Target} scopes={(Scopes is null ? "*" : string.Join(',', Scopes))} ips={(Networks is null ? "any" : string.Join(',', Networks))}";
    }

    private static readonly Gen<string[]?> RequestedScopes = Gen.Int[-1, ScopeChoices.Length - 1].Select(i => i < 0 ? null : ScopeChoices[i]);

    private static readonly Gen<string[]?> RequestedNetworks = Gen.Int[-2, NetworkChoices.Length - 1].Select(i => i < 0 ? null : NetworkChoices[i]);

    private static readonly Gen<Operation> Operations =
        from kind in Gen.Frequency((4, Gen.Const(Kind.CreateOwn)), (2, Gen.Const(Kind.CreateForOther)), (4, Gen.Const(Kind.Rotate)),
            (1, Gen.Const(Kind.CreateUserWithPassword)), (1, Gen.Const(Kind.SetPassword)), (1, Gen.Const(Kind.SignIn)))
        from caller in Gen.Int[0, 1000]
        from target in Gen.Int[0, 1000]
        from scopes in RequestedScopes
        from networks in RequestedNetworks
        select new Operation(kind, caller, target, scopes, networks);

    private static readonly Gen<(string[]? Scopes, string[]? Networks)[]> Seeds = Gen.Select(RequestedScopes, RequestedNetworks).Array[3, 5];

    [Fact]
    public async Task NoCredentialThatComesOutIsBroaderThanTheOneThatWentIn()
    {
        await using var factory = new DotApiFactory().WithRemoteAddress(Client).WithSetting("Dot:Auth:MaxFailuresPerMinute", "1000000");
        var admin = await factory.CreateUserAsync("admin@example.com", Role.Admin, Password);
        var other = await factory.CreateUserAsync("other@example.com", Role.Modeler);
        var minted = 0;
        var refused = 0;
        var unrestrictedOut = 0;
        var sequence = 0;

        await Gen.Select(Seeds, Operations.Array[4, 8]).SampleAsync(async sample =>
        {
            var (seeds, operations) = sample;
            var run = Interlocked.Increment(ref sequence);
            var pool = new List<Credential>();
            foreach (var (scopes, networks) in seeds)
            {
                var (token, id) = await factory.CreateTokenAsync(admin.Id, $"seed {run}.{pool.Count}", scopes: scopes, allowedIps: networks);
                pool.Add(new Credential(token, id, admin.Id, Canonical(scopes), Parse(networks)));
            }

            var n = 0;
            foreach (var op in operations)
            {
                var caller = pool[op.Caller % pool.Count];
                var client = factory.ClientWith(caller.Token);
                var name = $"op {run}.{n++}";
                HttpResponseMessage response;
                switch (op.Kind)
                {
                    case Kind.CreateOwn:
                    case Kind.CreateForOther:
                        response = await client.PostAsJsonAsync("/api/tokens", new Dictionary<string, object?>
                        {
                            ["name"] = name,
                            ["user_id"] = op.Kind == Kind.CreateForOther ? other.Id.ToString() : null,
                            ["scopes"] = op.Scopes,
                            ["allowed_ips"] = op.Networks,
                        });
                        break;
                    case Kind.Rotate:
                        response = await client.PostAsJsonAsync($"/api/tokens/{pool[op.Target % pool.Count].Id}/rotate", new { grace_period_minutes = 60 });
                        break;
                    case Kind.CreateUserWithPassword:
                        response = await client.PostAsJsonAsync("/api/users", new { email = $"u{run}-{n}@example.com", role = "admin", password = "hunter2hunter2" });
                        break;
                    case Kind.SetPassword:
                        response = await client.PatchAsJsonAsync($"/api/users/{other.Id}", new { password = "hunter2hunter2" });
                        break;
                    default:
                        var session = await SessionClient.StartAsync(factory);
                        session.Http.DefaultRequestHeaders.Add("API-KEY", caller.Token);
                        await session.RefreshAsync();
                        response = await session.SignInAsync(admin.Email, Password);
                        break;
                }

                Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode} for {op}");
                if (!response.IsSuccessStatusCode)
                {
                    refused++;
                    continue;
                }

                if (op.Kind is Kind.CreateOwn or Kind.CreateForOther or Kind.Rotate)
                {
                    var body = await response.JsonAsync();
                    var scopes = body.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()!).ToArray();
                    var networks = body.GetProperty("allowed_ips") is { ValueKind: JsonValueKind.Array } ips ? ips.EnumerateArray().Select(i => i.GetString()!).ToArray() : null;
                    var made = new Credential(body.GetProperty("token").GetString()!, body.GetProperty("id").GetGuid(),
                        op.Kind == Kind.CreateForOther ? other.Id : admin.Id, Canonical(scopes is [Scopes.All] ? null : scopes), Parse(networks));
                    Assert.True(ScopesWithin(caller.Scopes, made.Scopes), $"{op}: a token scoped {Show(caller.Scopes)} made one scoped {Show(made.Scopes)}");
                    Assert.True(NetworksWithin(caller.Networks, made.Networks), $"{op}: a token limited to {Show(caller.Networks)} made one limited to {Show(made.Networks)}");
                    pool.Add(made);
                    minted++;
                }
                else if (op.Kind == Kind.SignIn && (await client.GetAsync("/api/auth/me")).StatusCode != HttpStatusCode.OK)
                {
                    // The token was refused here (ip_not_allowed): the sign-in was the password's, not the token's.
                    unrestrictedOut++;
                }
                else
                {
                    // A password or a web session is unscoped and usable from anywhere: only an unrestricted caller gets one.
                    Assert.True(caller.Scopes is null && caller.Networks is null,
                        $"{op}: a token scoped {Show(caller.Scopes)} from {Show(caller.Networks)} obtained an unscoped credential ({(int)response.StatusCode})");
                    unrestrictedOut++;
                }
            }
        }, iter: 60, threads: 1);

        output.WriteLine($"{sequence} sequences: {minted} tokens minted, {unrestrictedOut} passwords or sessions, {refused} refused");
        Assert.True(minted > 10 && refused > 10, $"the property ran vacuously: {minted} minted, {refused} refused");
    }

    private static HashSet<string>? Canonical(IReadOnlyList<string>? scopes)
        => scopes is null ? null : new HashSet<string>(scopes.Append(Scopes.Profile), StringComparer.Ordinal);

    private static List<System.Net.IPNetwork>? Parse(IReadOnlyList<string>? networks)
        => networks?.Select(n => System.Net.IPNetwork.Parse(n.Contains('/', StringComparison.Ordinal) ? n : n + "/32")).ToList();

    /// <summary>Written out here, not taken from the product: every scope of the new credential is one the caller holds (null: all).</summary>
    private static bool ScopesWithin(IReadOnlySet<string>? caller, IReadOnlySet<string>? made)
        => caller is null || (made is not null && made.All(caller.Contains));

    private static bool NetworksWithin(IReadOnlyList<System.Net.IPNetwork>? caller, IReadOnlyList<System.Net.IPNetwork>? made)
        => caller is null || (made is not null && made.All(m => caller.Any(c => c.PrefixLength <= m.PrefixLength && c.Contains(m.BaseAddress))));

    private static string Show(IReadOnlySet<string>? scopes) => scopes is null ? "*" : string.Join(',', scopes.Order(StringComparer.Ordinal));

    private static string Show(IReadOnlyList<System.Net.IPNetwork>? networks) => networks is null ? "anywhere" : string.Join(',', networks);
}
