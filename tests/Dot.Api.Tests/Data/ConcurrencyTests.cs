using System.Net;
using System.Net.Http.Json;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;

namespace Dot.Api.Tests;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task ThirtyTwoClientsCreatingAndUsingTokensAtOnceAllSucceed()
    {
        await using var factory = new DotApiFactory();
        var callers = new List<HttpClient>();
        for (var i = 0; i < 32; i++)
        {
            callers.Add((await factory.CreateCallerAsync($"c{i}@example.com", Role.User)).Client);
        }

        var statuses = await Task.WhenAll(callers.Select(async (client, i) =>
        {
            var codes = new List<HttpStatusCode>();
            for (var round = 0; round < 5; round++)
            {
                var created = await client.PostAsJsonAsync("/api/tokens", new { name = $"c{i}-{round}", expires_in_days = 1 });
                codes.Add(created.StatusCode);
                if (created.StatusCode != HttpStatusCode.Created)
                {
                    continue;
                }

                var secret = (await created.JsonAsync()).GetProperty("token").GetString()!;
                codes.Add((await factory.ClientWith(secret).GetAsync("/api/auth/me")).StatusCode);
                codes.Add((await client.GetAsync("/api/tokens")).StatusCode);
            }

            return codes;
        }));

        var all = statuses.SelectMany(s => s).ToList();
        Assert.Equal(32 * 5 * 3, all.Count);
        Assert.All(all, s => Assert.True(s is HttpStatusCode.Created or HttpStatusCode.OK, s.ToString()));
    }
}
