using Dot.Api.Authentication;
using Microsoft.AspNetCore.Http;

namespace Dot.Api.Tests;

[Trait("Store", "any")]
public sealed class QueryCredentialTests
{
    [Theory]
    [InlineData("?user_id=a%40b.com&api_token=dot-1", "user_id", "a@b.com")]
    [InlineData("?user_id=a%40b.com&api_token=dot-1", "api_token", "dot-1")]
    [InlineData("?API_TOKEN=x", "api_token", "x")]
    [InlineData("?a=1&api%5Ftoken=y", "api_token", "y")]
    [InlineData("?api_token=first&api_token=second", "api_token", "first")]
    [InlineData("?user_id=a+b", "user_id", "a b")]
    [InlineData("?api_token=", "api_token", "")]
    [InlineData("?api_token", "api_token", "")]
    [InlineData("?x_api_token=z", "api_token", null)]
    [InlineData("", "api_token", null)]
    public void FindsOneParameterAsTheQueryCollectionWould(string query, string name, string? expected)
        => Assert.Equal(expected, QueryCredential.Find(new QueryString(query.Length == 0 ? null : query), name));
}
