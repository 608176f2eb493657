using Dot.Api.Infrastructure;

namespace Dot.Api.Tests;

/// <summary>Where the server's content root is, from its arguments: the app's directory unless one is given
/// (the servers started from another directory are in Dot.Api.SystemTests' ContentRootTests).</summary>
[Trait("Store", "any")]
public sealed class ContentRootArgumentsTests
{
    [Theory]
    [InlineData(new string[0], false)]
    [InlineData(new[] { "--contentRoot", "/srv/dot" }, true)]
    [InlineData(new[] { "--contentRoot=/srv/dot" }, true)]
    [InlineData(new[] { "--contentroot", "/srv/dot" }, true)]
    [InlineData(new[] { "/contentRoot", "/srv/dot" }, true)]
    [InlineData(new[] { "contentRoot=/srv/dot" }, true)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:0" }, false)]
    public void ContentRootIsTheAppDirectoryUnlessGiven(string[] args, bool given)
    {
        var options = ContentRoot.BuilderOptions(args);

        Assert.Equal(given ? null : AppContext.BaseDirectory, options.ContentRootPath);
        Assert.Equal(args, options.Args);
    }
}
