using Dot.Api.Access;
using Microsoft.AspNetCore.Authentication;

namespace Dot.Api.Authentication;

/// <summary>
/// Why a request was refused access: a stable <see cref="Code"/> (the body's <c>reason</c>), a sentence for people, the
/// status — 401 for a credential that is missing or not taken, 403 for one taken that may not do this, 429 for an
/// address that is throttled — and, for a missing scope, the scope it needed. <see cref="Refusals"/> writes every one.
/// </summary>
public sealed class AuthFailure(string code, string detail, int status = StatusCodes.Status401Unauthorized, string? requiredScope = null,
    string? title = null)
{
    private const string ParameterName = "dot:auth_failure";

    public string Code { get; } = code;

    public string Detail { get; } = detail;

    /// <summary>401, 403 (a known token used from outside its <c>allowed_ips</c>, a role or scope too small) or 429.</summary>
    public int Status { get; } = status;

    /// <summary>The scope the endpoint needed (<c>required_scope</c>), for <c>insufficient_scope</c>.</summary>
    public string? RequiredScope { get; } = requiredScope;

    /// <summary>The <c>WWW-Authenticate</c> value of a 401, made once.</summary>
    public string WwwAuthenticate { get; } = $"ApiKey realm=\"dot\", header=\"{ApiTokenDefaults.HeaderName}\", error=\"{code}\"";

    /// <summary>
    /// The problem-details body up to the trace id, serialized once: a refusal writes these bytes, the request's trace id
    /// and <see cref="BodySuffix"/>. The fields and their order are those <c>IProblemDetailsService</c> writes.
    /// </summary>
    internal byte[] BodyPrefix { get; } = System.Text.Encoding.UTF8.GetBytes(
        "{" + (TypeOf(status) is { } type ? "\"type\":" + System.Text.Json.JsonSerializer.Serialize(type) + "," : string.Empty)
        + "\"title\":" + System.Text.Json.JsonSerializer.Serialize(title ?? Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status))
        + ",\"status\":" + status.ToString(System.Globalization.CultureInfo.InvariantCulture)
        + ",\"detail\":" + System.Text.Json.JsonSerializer.Serialize(detail)
        + ",\"reason\":" + System.Text.Json.JsonSerializer.Serialize(code)
        + (requiredScope is null ? string.Empty : ",\"required_scope\":" + System.Text.Json.JsonSerializer.Serialize(requiredScope))
        + ",\"trace_id\":\"");

    internal static readonly byte[] BodySuffix = "\"}"u8.ToArray();

    /// <summary>The RFC 9110 section ASP.NET Core's problem details name for a status, as its defaults do (none for 429).</summary>
    private static string? TypeOf(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => "https://tools.ietf.org/html/rfc9110#section-15.5.2",
        StatusCodes.Status403Forbidden => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        _ => null,
    };

    /// <summary>One shared failure result per reason: refusing allocates nothing.</summary>
    public AuthenticateResult Result => _result ??= AuthenticateResult.Fail(Detail,
        new AuthenticationProperties(items: null, parameters: new Dictionary<string, object?> { [ParameterName] = this }));


    /// <summary>The failure behind a result made by <see cref="Result"/>, if any.</summary>
    public static AuthFailure? Of(AuthenticateResult result) => result.Properties?.GetParameter<AuthFailure>(ParameterName);

    private AuthenticateResult? _result;

    public static readonly AuthFailure Missing = new("missing_credentials",
        "Missing credentials: send the token in the API-KEY header.");

    public static readonly AuthFailure Malformed = new("malformed_token",
        "Malformed token: a token is 'dot-' followed by 64 lowercase hex digits.");

    public static readonly AuthFailure BadChecksum = new("malformed_token",
        "Malformed token: its checksum does not match (mistyped or truncated?).");

    public static readonly AuthFailure TooLong = new("malformed_token",
        $"Malformed token: credentials longer than {ApiTokenDefaults.MaxCredentialLength} characters are refused.");

    public static readonly AuthFailure Unknown = new("unknown_token", "Unknown token.");

    public static readonly AuthFailure Expired = new("expired_token", "Expired token.");

    public static readonly AuthFailure Revoked = new("revoked_token", "Revoked token.");

    public static readonly AuthFailure UserIdMissing = new("user_id_mismatch",
        "user_id mismatch: a token in the URL needs user_id (the owner's email or id) beside it.");

    public static readonly AuthFailure UserIdMismatch = new("user_id_mismatch",
        "user_id mismatch: user_id does not name the token's owner.");

    public static readonly AuthFailure IpNotAllowed = new("ip_not_allowed",
        "Forbidden: this token may not be used from this address (its allowed_ips).", StatusCodes.Status403Forbidden);

    public static readonly AuthFailure Disabled = new("disabled_user", "Disabled user: the token's owner is disabled.");

    /// <summary>A session cookie that no longer names a live session (signed out, expired, its user disabled).</summary>
    public static readonly AuthFailure SessionExpired = new("session_expired",
        "Session expired or ended: sign in again at /settings/users, or send a token in the API-KEY header.");

    private static readonly AuthFailure[] RoleTooSmall = [.. Enum.GetValues<Role>().Select(role => new AuthFailure("insufficient_role",
        $"Forbidden: the role '{role.ToName()}' may not call this endpoint.", StatusCodes.Status403Forbidden))];

    /// <summary>403 <c>insufficient_role</c> for a caller of this role.</summary>
    public static AuthFailure InsufficientRole(Role role) => RoleTooSmall[(int)role];

    /// <summary>403 <c>insufficient_scope</c>, with the scope the request needed in <c>required_scope</c>.</summary>
    public static AuthFailure InsufficientScope(ScopeRefusal refusal)
        => new("insufficient_scope", refusal.Detail, StatusCodes.Status403Forbidden, refusal.Needed);

    /// <summary>429 <c>throttled</c>: too many refused credentials from the caller's address.</summary>
    public static AuthFailure Throttled(int retryAfterSeconds) => new("throttled",
        $"Too many refused credentials from this address; try again in {retryAfterSeconds} seconds.", StatusCodes.Status429TooManyRequests,
        title: "Too many failed authentications.");
}
