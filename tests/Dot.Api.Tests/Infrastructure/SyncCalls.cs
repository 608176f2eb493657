using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Dot.Api.Tests.Infrastructure;

/// <summary>Connections, sync triggers and catalogue reads through the API, for the connector tests.</summary>
public static class SyncCalls
{
    public static async Task CreateConnectionAsync(this HttpClient admin, string type, string id, object? settings = null, object? secrets = null)
    {
        var response = await admin.PostAsJsonAsync("/api/connections", new { type, id, settings, secrets });
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"creating {type}/{id}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Queues a sync (header credentials of <paramref name="client"/>, or whatever its query carries) and returns its id.</summary>
    public static async Task<Guid> TriggerSyncAsync(this HttpClient client, string type, string id, string query = "", HttpContent? body = null)
    {
        var response = await client.PostAsync($"/api/sync/{type}/{id}{query}", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.JsonAsync()).GetProperty("sync_id").GetGuid();
    }

    /// <summary>Polls <c>GET /api/sync/runs/{id}</c> until the run has finished, for at most <paramref name="seconds"/>;
    /// <paramref name="eachPoll"/> runs after each look at an unfinished run.</summary>
    public static Task<JsonElement> WaitForRunAsync(this HttpClient client, Guid syncId, int seconds = 60, Action? eachPoll = null)
        => Eventually.ValueAsync(
            async () =>
            {
                var response = await client.GetAsync($"/api/sync/runs/{syncId}");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                var run = await response.JsonAsync();
                if (run.GetProperty("status").GetString() is not ("succeeded" or "failed"))
                {
                    eachPoll?.Invoke();
                }

                return run;
            },
            run => run.GetProperty("status").GetString() is "succeeded" or "failed",
            TimeSpan.FromSeconds(seconds),
            run => $"sync {syncId} still {run.GetProperty("status").GetString()} after {seconds} s");

    /// <summary>Triggers a sync and waits for it; asserts it succeeded (showing the error if not).</summary>
    public static async Task<JsonElement> SyncAsync(this HttpClient admin, string type, string id)
    {
        var run = await admin.WaitForRunAsync(await admin.TriggerSyncAsync(type, id));
        Assert.True(run.GetProperty("status").GetString() == "succeeded", $"sync of {type}/{id} failed: {run.GetProperty("error")}");
        return run;
    }

    public static async Task<JsonElement> CatalogAsync(this HttpClient client, string type, string id)
    {
        var response = await client.GetAsync($"/api/connections/{type}/{id}/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.JsonAsync();
    }

    /// <summary>None of <paramref name="secrets"/> shows in the run or anywhere in the server's log.</summary>
    public static void AssertNoSecret(this DotApiFactory factory, JsonElement run, params string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, run.GetRawText(), StringComparison.Ordinal);
            Assert.DoesNotContain(secret, factory.Logs.AllText, StringComparison.Ordinal);
        }
    }
}
