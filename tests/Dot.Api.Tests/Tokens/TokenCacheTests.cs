using System.Net;
using Dot.Api.Access;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dot.Api.Tests;

/// <summary>The verified-token cache: hits skip the database, writes here evict at once, writes elsewhere within the window.</summary>
public sealed class TokenCacheTests
{
    /// <summary>Token lookups the authentication handler made in the database (counted by the lookup itself).</summary>
    private static long DatabaseLookups(DotApiFactory factory) => factory.Services.GetRequiredService<TokenLookup>().Lookups;

    [Fact]
    public async Task ACachedTokenIsVerifiedWithoutTheDatabase()
    {
        await using var factory = new DotApiFactory();
        var (_, _, client) = await factory.CreateCallerAsync("hit@example.com");
        Assert.Equal(0, DatabaseLookups(factory));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode); // miss: one lookup
        Assert.Equal(1, DatabaseLookups(factory));

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        }

        Assert.Equal(1, DatabaseLookups(factory));
        factory.Time.Advance(TimeSpan.FromSeconds(5)); // past the cache window: asked again, once
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(2, DatabaseLookups(factory));
    }

    [Fact]
    public async Task MalformedAndBadChecksumTokensNeverQueryTheDatabase()
    {
        await using var factory = new DotApiFactory();
        var (_, token, _) = await factory.CreateCallerAsync("m@example.com");

        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWith("dot-" + new string('z', 64)).GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWith(token[..^1] + (token[^1] == '0' ? '1' : '0')).GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWith(new string('a', 5000)).GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(0, DatabaseLookups(factory));

        // The counter does count: an unknown token of the right shape is looked up.
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.ClientWith(TokenFormat.Generate()).GetAsync("/api/auth/me")).StatusCode);
        Assert.Equal(1, DatabaseLookups(factory));
    }

    [Fact]
    public async Task AChangeMadeByAnotherInstanceIsSeenWithinTheCacheWindow()
    {
        await using var factory = new DotApiFactory();
        var user = await factory.CreateUserAsync("other-instance@example.com");
        var (token, id) = await factory.CreateTokenAsync(user.Id);
        var client = factory.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        // Another instance (or the CLI) revokes it in the shared database, behind this instance's back.
        await using (var db = factory.OpenStore())
        {
            await db.ApiTokens.Where(t => t.Id == id).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, factory.Time.GetUtcNow().UtcDateTime));
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode); // still cached
        factory.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public async Task ExpiryIsCheckedOnEveryHit()
    {
        await using var factory = new DotApiFactory().WithSetting("Dot:Tokens:CacheSeconds", "3600");
        var user = await factory.CreateUserAsync("exp@example.com");
        var (token, _) = await factory.CreateTokenAsync(user.Id, lifetime: TimeSpan.FromMinutes(10));
        var client = factory.ClientWith(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me")).StatusCode);

        factory.Time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/auth/me")).StatusCode);
    }

    [Fact]
    public void TheCacheIsBounded()
    {
        var cache = new VerifiedTokenCache(Options.Create(new TokenOptions { CacheSize = 100 }), new FakeTimeProvider());
        for (var i = 0; i < 10_000; i++)
        {
            var hash = TokenFormat.Hash(TokenFormat.Generate());
            cache.Add(TokenHashKey.From(hash), new VerifiedToken(Guid.NewGuid(), "t", null, null, null, Guid.NewGuid(), "e@x", "n", Role.User, false), cache.EvictionStamp);
            Assert.True(cache.Count <= 100);
        }

        Assert.True(cache.Count >= 50);
    }

    [Fact]
    public void RecentlyUsedEntriesSurviveGenerationTurnover()
    {
        var cache = new VerifiedTokenCache(Options.Create(new TokenOptions { CacheSize = 10 }), new FakeTimeProvider());
        var hot = TokenHashKey.From(TokenFormat.Hash(TokenFormat.Generate()));
        cache.Add(hot, new VerifiedToken(Guid.NewGuid(), "hot", null, null, null, Guid.NewGuid(), "e@x", "n", Role.User, false), cache.EvictionStamp);
        for (var i = 0; i < 1000; i++)
        {
            cache.Add(TokenHashKey.From(TokenFormat.Hash(TokenFormat.Generate())), new VerifiedToken(Guid.NewGuid(), "cold", null, null, null, Guid.NewGuid(), "e@x", "n", Role.User, false), cache.EvictionStamp);
            Assert.True(cache.TryGet(hot, out _), $"hot entry lost after {i} inserts");
        }
    }

    [Fact]
    public void ATokenReadBeforeAnEvictionIsNotKept()
    {
        var cache = new VerifiedTokenCache(Options.Create(new TokenOptions()), new FakeTimeProvider());
        var hash = TokenFormat.Hash(TokenFormat.Generate());
        var key = TokenHashKey.From(hash);
        var read = new VerifiedToken(Guid.NewGuid(), "t", null, null, null, Guid.NewGuid(), "e@x", "n", Role.User, false);

        var stamp = cache.EvictionStamp; // the lookup starts…
        cache.Remove(hash); // …a revocation is notified meanwhile…
        var entry = cache.Add(key, read, stamp); // …and what the lookup read is answered, not kept
        Assert.Same(read, entry.Token);
        Assert.False(cache.TryGet(key, out _));

        cache.Add(key, read, cache.EvictionStamp);
        Assert.True(cache.TryGet(key, out _));
        cache.Clear();
        Assert.False(cache.TryGet(key, out _));
        Assert.Equal(0, cache.Count);
    }
}
