namespace Dot.Api.Authentication;

/// <summary>
/// The two ways in — an API token, a web session's cookie — and which one a request presents: the one place that
/// decides it, for the default scheme (<see cref="Select"/>, which the session feature registers), for
/// <see cref="DotAuthenticationMiddleware"/>. The session's names live here
/// so that authentication need not know the session feature (which builds on it).
/// </summary>
public static class CredentialSchemes
{
    /// <summary>The session cookie's scheme.</summary>
    public const string Session = "Session";

    /// <summary>The default scheme: forwards each request to <see cref="ApiTokenDefaults.AuthenticationScheme"/> or to <see cref="Session"/>.</summary>
    public const string Selector = "ApiTokenOrSession";

    /// <summary>The session cookie's name.</summary>
    public const string SessionCookieName = "dot_session";

    /// <summary>
    /// A token in a header or in <c>api_token</c> goes to the API-token scheme, whatever cookies come with it,
    /// so every API-token rule holds as it is; otherwise a session cookie goes to the cookie scheme; a request
    /// with neither goes to the API-token scheme, whose 401 says which credential is missing.
    /// </summary>
    internal static string Select(HttpContext context)
        => Presented(context.Request, ApiTokenCredential.Read(context)) ?? ApiTokenDefaults.AuthenticationScheme;

    /// <summary>
    /// The scheme of the credential the request presents: the API-token scheme for a token (<paramref name="credential"/>),
    /// else the cookie scheme for a session cookie; null for neither.
    /// </summary>
    internal static string? Presented(HttpRequest request, ApiTokenCredential credential)
        => credential.IsPresent ? ApiTokenDefaults.AuthenticationScheme
            : request.Headers.Cookie.Count > 0 && request.Cookies.ContainsKey(SessionCookieName) ? Session
            : null;
}
