using System.Net;
using Dot.Api.Connectors.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dot.Api.Connectors.Tests;

/// <summary>Which addresses and hosts connectors may reach (<see cref="ConnectorNetwork"/>), without a network.</summary>
[Trait("Store", "any")]
public sealed class ConnectorNetworkTests
{
    [Theory]
    [InlineData("169.254.169.254", "a cloud metadata address")]
    [InlineData("::ffff:169.254.169.254", "a cloud metadata address")]
    [InlineData("64:ff9b::a9fe:a9fe", "a cloud metadata address")] // 169.254.169.254 through NAT64
    [InlineData("fd00:ec2::254", "a cloud metadata address")]
    [InlineData("fd20:ce::254", "a cloud metadata address")]
    [InlineData("fd20:ce:0:0:0:0:0:254", "a cloud metadata address")]
    [InlineData("100.100.100.200", "a cloud metadata address")]
    [InlineData("169.254.0.1", "a link-local address (where cloud metadata services answer)")]
    [InlineData("169.254.255.255", "a link-local address (where cloud metadata services answer)")]
    [InlineData("fe80::1", "a link-local address (where cloud metadata services answer)")]
    [InlineData("febf:ffff::1", "a link-local address (where cloud metadata services answer)")]
    [InlineData("127.0.0.1", null)]
    [InlineData("::1", null)]
    [InlineData("10.1.2.3", null)]
    [InlineData("172.16.0.9", null)]
    [InlineData("192.168.1.10", null)]
    [InlineData("fd12:3456::1", null)]
    [InlineData("fd20:ce::253", null)]
    [InlineData("169.253.255.255", null)]
    [InlineData("169.255.0.1", null)]
    [InlineData("100.100.100.201", null)]
    [InlineData("fec0::1", null)]
    [InlineData("8.8.8.8", null)]
    public void LinkLocalAndMetadataAddressesAreAlwaysRefusedPrivateAndLoopbackAreNot(string address, string? reason)
        => Assert.Equal(reason, ConnectorNetwork.AlwaysRefused(IPAddress.Parse(address)));

    [Theory]
    [InlineData("cloud.getdbt.com", "cloud.getdbt.com", true)]
    [InlineData("CLOUD.getdbt.com.", "cloud.getdbt.com", true)]
    [InlineData("*.getdbt.com", "emea.cloud.getdbt.com", true)]
    [InlineData("*.getdbt.com", "getdbt.com", false)]
    [InlineData("*.getdbt.com", "evilgetdbt.com", false)]
    [InlineData("cloud.getdbt.com", "cloud.getdbt.com.evil.example", false)]
    public void HostNamePatternsMatchTheNameOrItsSubdomains(string entry, string host, bool matches)
    {
        var network = Network(allowed: [entry]);

        Assert.Equal(matches, network.IsAllowedName(host));
    }

    [Fact]
    public async Task ResolvedAddressesAreCheckedAndOnlyAllowedOnesReturned()
    {
        var dns = new FakeConnectorDns(new(StringComparer.Ordinal)
        {
            ["mixed.example"] = [IPAddress.Parse("169.254.169.254"), IPAddress.Parse("10.0.0.5"), IPAddress.Parse("::ffff:10.0.0.6")],
            ["blocked.example"] = [IPAddress.Parse("10.20.0.1")],
            ["internal.example"] = [IPAddress.Parse("10.0.0.7")],
            ["outside.example"] = [IPAddress.Parse("192.0.2.1")],
        });

        var open = Network(dns: dns, blocked: ["10.20.0.0/16"]);
        Assert.Equal(["10.0.0.5", "10.0.0.6"], (await open.ResolveAsync("mixed.example", default)).Select(a => a.ToString()));
        var blocked = await Assert.ThrowsAsync<ConnectorTargetRefusedException>(() => open.ResolveAsync("blocked.example", default));
        Assert.Equal("blocked.example (10.20.0.1) is in 10.20.0.0/16, which Dot:Connectors:BlockedNetworks refuses", blocked.Message);

        // With an allow-list: a listed name, or an address in a listed range; nothing else.
        var listed = Network(dns: dns, allowed: ["mixed.example", "10.0.0.0/24"]);
        Assert.Equal(2, (await listed.ResolveAsync("mixed.example", default)).Count);
        Assert.Equal("10.0.0.7", Assert.Single(await listed.ResolveAsync("internal.example", default)).ToString());
        var outside = await Assert.ThrowsAsync<ConnectorTargetRefusedException>(() => listed.ResolveAsync("outside.example", default));
        Assert.Equal("outside.example is not in Dot:Connectors:AllowedHosts: connectors on this server reach only the hosts listed there", outside.Message);
        var metadata = await Assert.ThrowsAsync<ConnectorTargetRefusedException>(() => Network(allowed: ["169.254.0.0/16"]).ResolveAsync("169.254.169.254", default));
        Assert.Equal("169.254.169.254 is a cloud metadata address: connectors never connect there", metadata.Message);
    }

    [Fact]
    public void EntriesThatCannotBeReadAreNamedAtStart()
    {
        var failures = ConnectorOptions.Check(new ConnectorOptions
        {
            AllowedHosts = ["cloud.getdbt.com", "*.getdbt.com", "10.0.0.0/8", "::1", "https://cloud.getdbt.com", "*"],
            BlockedNetworks = ["10.20.0.0/16", "db.internal"],
        }).ToList();

        Assert.Equal(
        [
            "Dot:Connectors:AllowedHosts:4 must be a host name, a pattern such as *.getdbt.com, an IP address or a CIDR range.",
            "Dot:Connectors:AllowedHosts:5 must be a host name, a pattern such as *.getdbt.com, an IP address or a CIDR range.",
            "Dot:Connectors:BlockedNetworks:1 must be an IP address or a CIDR range (such as 10.20.0.0/16).",
        ], failures);
    }

    /// <summary>
    /// The options as the server binds them: an entry that cannot be read fails their first use, naming the key (the
    /// server checks them at start, so it does not start: tests/Dot.Api.Tests, OptionsValidationTests).
    /// </summary>
    [Fact]
    public void UnreadableEntryFailsTheOptionsNamingTheKey()
    {
        using var host = new ConnectorHost(new Dictionary<string, string?> { ["Dot:Connectors:AllowedHosts:0"] = "https://cloud.getdbt.com/" });

        var ex = Assert.ThrowsAny<Exception>(() => host.Connector("dbt"));

        Assert.Contains("Dot:Connectors:AllowedHosts:0", ex.ToString(), StringComparison.Ordinal);
    }

    private static ConnectorNetwork Network(IConnectorDns? dns = null, List<string>? allowed = null, List<string>? blocked = null)
        => new(Options.Create(new ConnectorOptions { AllowedHosts = allowed ?? [], BlockedNetworks = blocked ?? [] }),
            dns ?? new FakeConnectorDns([]));
}
