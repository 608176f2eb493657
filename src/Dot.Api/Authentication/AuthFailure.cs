using Microsoft.AspNetCore.Authentication;

namespace Dot.Api.Authentication;

/// <summary>Why a credential was refused: a stable <see cref="Code"/> and a sentence for people.</summary>
public sealed class AuthFailure(string code, string detail, int status = StatusCodes.Status401Unauthorized)
{
    private const string ParameterName = "dot:auth_failure";

    public string Code { get; } = code;

    public string Detail { get; } = detail;

    /// <summary>401, but 403 for a known token used from outside its <c>allowed_ips</c>: the credential is right, the place is not.</summary>
    public int Status { get; } = status;

    /// <summary>The <c>WWW-Authenticate</c> value, made once.</summary>
    public string WwwAuthenticate { get; } = $"ApiKey realm=\"dot\", header=\"{ApiTokenDefaults.HeaderName}\", error=\"{code}\"";

    /// <summary>
    /// The problem-details body up to the trace id, serialized once: a refusal writes these bytes,
    /// the request's trace id and <see cref="BodySuffix"/>, and nothing is serialized per request.
    /// </summary>
    internal byte[] BodyPrefix { get; } = System.Text.Encoding.UTF8.GetBytes(
        (status == StatusCodes.Status403Forbidden
            ? "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.4\",\"title\":\"Forbidden\",\"status\":403,\"detail\":"
            : "{\"type\":\"https://tools.ietf.org/html/rfc9110#section-15.5.2\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":")
        + System.Text.Json.JsonSerializer.Serialize(detail) + ",\"reason\":" + System.Text.Json.JsonSerializer.Serialize(code) + ",\"trace_id\":\"");

    internal static readonly byte[] BodySuffix = "\"}"u8.ToArray();

    /// <summary>One shared failure result per reason: refusing allocates nothing.</summary>
    public AuthenticateResult Result => _result ??= AuthenticateResult.Fail(Detail,
        new AuthenticationProperties(items: null, parameters: new Dictionary<string, object?> { [ParameterName] = this }));

    /// <summary><see cref="Result"/> as a completed task, for handlers that answer without waiting.</summary>
    public Task<AuthenticateResult> ResultTask => _task ??= Task.FromResult(Result);

    private Task<AuthenticateResult>? _task;

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
}
