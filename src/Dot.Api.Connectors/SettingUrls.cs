namespace Dot.Api.Connectors;

/// <summary>
/// URL-valued settings must not carry credentials. A setting is URL-valued when its value reads <c>scheme://…</c> or
/// its name is <c>url</c>, <c>uri</c> or ends in <c>_url</c> / <c>_uri</c> (<c>manifest_url</c>, <c>cloud_url</c>, any
/// connector's). Its credentials are user info (<c>user:password@host</c>) and a query string (a signed URL's
/// <c>?sig=…</c>): settings are stored in the clear and returned by the API, so both belong in the secrets.
/// </summary>
public static class SettingUrls
{
    public const string Mask = "[REDACTED]";

    public static bool IsUrlName(string name)
        => name is "url" or "uri"
            || name.EndsWith("_url", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith("_uri", StringComparison.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="value"/> is URL-valued and has user info or a query string.</summary>
    public static bool HasCredentials(string name, string value)
        => Split(name, value) is { } parts && (parts.At >= 0 || parts.Query >= 0);

    /// <summary>
    /// <paramref name="value"/> with its user info and its query replaced by <see cref="Mask"/>
    /// (<c>https://[REDACTED]@host/path?[REDACTED]</c>), for settings stored before such values were refused.
    /// </summary>
    public static string Redact(string name, string value)
    {
        if (Split(name, value) is not { } parts || (parts.At < 0 && parts.Query < 0))
        {
            return value;
        }

        var authority = parts.At >= 0
            ? Mask + value[parts.At..parts.AuthorityEnd]
            : value[parts.AuthorityStart..parts.AuthorityEnd];
        var pathEnd = parts.Query >= 0 ? parts.Query : value.Length;
        var query = parts.Query >= 0 ? "?" + Mask : "";
        return value[..parts.AuthorityStart] + authority + value[parts.AuthorityEnd..pathEnd] + query;
    }

    /// <summary>Where the authority is, the index of the '@' that ends its user info (-1: none) and of the query's '?' (-1: none).</summary>
    private static (int AuthorityStart, int AuthorityEnd, int At, int Query)? Split(string name, string value)
    {
        var separator = value.IndexOf("://", StringComparison.Ordinal);
        var hasScheme = separator > 0 && value.AsSpan(0, separator).Trim().ToString()
            .All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.');
        if (!hasScheme && !IsUrlName(name))
        {
            return null;
        }

        var start = hasScheme ? separator + 3 : 0;
        var end = value.IndexOfAny(['/', '?', '#', '\\'], start);
        if (end < 0)
        {
            end = value.Length;
        }

        var at = value.AsSpan(start, end - start).LastIndexOf('@');
        var fragment = value.IndexOf('#', start);
        var query = value.IndexOf('?', start);
        if (fragment >= 0 && query > fragment)
        {
            query = -1;
        }

        return (start, end, at < 0 ? -1 : start + at, query);
    }
}
