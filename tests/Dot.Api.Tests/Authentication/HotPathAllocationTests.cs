using System.Security.Claims;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Tests;

/// <summary>
/// What every request reads must not allocate: these run on each request (with a token or without), and a boxed
/// enumerator there is a cost per request that no test of answers would see (docs/benchmark.md, "Third round").
/// Counted with the thread's allocation counter, which is exact, not timed.
/// </summary>
[Trait("Store", "any")]
public sealed class HotPathAllocationTests
{
    [Fact]
    public void ReadingTheIdentityOfADotPrincipalAllocatesNothing()
    {
        var principal = DotClaims.Create("ApiToken", Guid.NewGuid(), "a@example.com", "A", Role.User, "header", Guid.NewGuid(), "t");
        Assert.True(principal.Identity!.IsAuthenticated);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _ = principal.Identity!.IsAuthenticated;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Same(principal.Identities.First(), principal.Identity);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("dot-0123")]
    public void ReadingTheCredentialAllocatesNothing(string? apiKey)
    {
        var context = new DefaultHttpContext();
        context.Request.QueryString = new QueryString("?page=2");
        if (apiKey is not null)
        {
            context.Request.Headers[ApiTokenDefaults.HeaderName] = apiKey;
        }

        var options = new ApiTokenOptions();
        var credential = ApiTokenCredential.Read(context.Request, options);
        Assert.Equal(apiKey is null ? CredentialSource.None : CredentialSource.Header, credential.Source);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            ApiTokenCredential.Read(context.Request, options);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}

/// <summary>
/// <see cref="ClaimsPrincipal.PrimaryIdentitySelector"/> is process-wide: the test that sets it runs alone, so no other
/// test's principal sees the selector it sets.
/// </summary>
[Trait("Store", "any")]
[Collection(ProcessWideSettings.Name)]
public sealed class PrimaryIdentitySelectorTests
{
    [Fact]
    public void AHostWidePrimaryIdentitySelectorStillDecides()
    {
        var principal = DotClaims.Create("ApiToken", Guid.NewGuid(), "a@example.com", "A", Role.User, "header");
        var other = new ClaimsIdentity();
        principal.AddIdentity(other);
        var framework = ClaimsPrincipal.PrimaryIdentitySelector;
        try
        {
            ClaimsPrincipal.PrimaryIdentitySelector = identities => identities.LastOrDefault();
            Assert.Same(other, principal.Identity);
        }
        finally
        {
            ClaimsPrincipal.PrimaryIdentitySelector = framework;
        }

        Assert.NotSame(other, principal.Identity);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideSettings
{
    public const string Name = "process-wide settings";
}
