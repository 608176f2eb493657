using Microsoft.AspNetCore.Authentication;

namespace Dot.Api.Authentication;

public sealed class ApiTokenOptions : AuthenticationSchemeOptions
{
    /// <summary>Headers read for a token, in order. The first present wins.</summary>
    public IList<string> HeaderNames { get; } = [ApiTokenDefaults.HeaderName, ApiTokenDefaults.AlternateHeaderName];

    public string QueryTokenParameter { get; set; } = ApiTokenDefaults.QueryTokenParameter;

    public string QueryUserParameter { get; set; } = ApiTokenDefaults.QueryUserParameter;

    public override void Validate()
    {
        base.Validate();
        if (HeaderNames.Count == 0 || HeaderNames.Any(string.IsNullOrWhiteSpace))
        {
            throw new InvalidOperationException("ApiTokenOptions.HeaderNames must name at least one header, and no empty one.");
        }

        if (string.IsNullOrWhiteSpace(QueryTokenParameter) || string.IsNullOrWhiteSpace(QueryUserParameter))
        {
            throw new InvalidOperationException("ApiTokenOptions.QueryTokenParameter and QueryUserParameter must not be empty.");
        }
    }
}
