using System.CommandLine;
using Dot.Api.Cli;
using Dot.Api.Connections;
using Dot.Api.Tests.Infrastructure;
using Dot.Api.Tokens;
using Dot.Api.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Dot.Api.Tests;

/// <summary>
/// The admin commands come from the services: each feature registers its <see cref="ICliCommands"/> from its
/// <c>AddXxx()</c>, and the tree is built from whatever is registered, in any order, with no registry of its own.
/// </summary>
[Trait("Store", "any")] // the commands' parsing and registration, not the store
public sealed class CliCommandsTests
{
    [Fact]
    public async Task EveryFeatureRegistersItsCommandsAsAService()
    {
        await using var factory = new DotApiFactory();

        var registered = factory.Services.GetServices<ICliCommands>().Select(c => c.GetType()).ToList();

        Assert.Equal(3, registered.Count);
        Assert.Contains(typeof(UsersCli), registered);
        Assert.Contains(typeof(TokensCli), registered);
        Assert.Contains(typeof(ConnectionsCli), registered);
    }

    [Fact]
    public void TheTreeIsTheSameInAnyOrderOfRegistration()
    {
        ICliCommands[] features = [new UsersCli(), new TokensCli(), new ConnectionsCli()];

        var forward = Paths(CliCommands.BuildRoot(features));
        var backward = Paths(CliCommands.BuildRoot(features.Reverse()));

        Assert.Equal(forward.Order(StringComparer.Ordinal), backward.Order(StringComparer.Ordinal));
        Assert.Contains("users set-password", forward);
        Assert.Contains("tokens rotate", forward);
        Assert.Contains("connections add", forward);
    }

    [Fact]
    public void WithNoFeatureRegisteredThereAreOnlyServeAndHelp()
    {
        Assert.Equal(["help", "serve"], Paths(CliCommands.BuildRoot([])).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void RegisteringAFeatureTwiceAddsItsCommandsOnce()
    {
        var services = new ServiceCollection().AddCliCommands<TokensCli>().AddCliCommands<TokensCli>();

        Assert.Single(services, d => d.ServiceType == typeof(ICliCommands));
    }

    private static List<string> Paths(Command command, string prefix = "")
        => [.. command.Subcommands.SelectMany(c => c.Subcommands.Count == 0
            ? [prefix + c.Name]
            : Paths(c, prefix + c.Name + " "))];
}
