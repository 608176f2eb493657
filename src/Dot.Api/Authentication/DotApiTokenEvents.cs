using Dot.Api.Audit;
using Dot.Api.Tokens;

namespace Dot.Api.Authentication;

/// <summary>
/// This server's subscribers to the API-token scheme: a refusal counts against the client's throttle budget and is
/// audited (reason, address, hint); a validated token's use is noted for <c>last_used_*</c>. None of them runs a
/// database write on the request.
/// </summary>
internal sealed class DotApiTokenEvents(FailureThrottle throttle, AuthFailureAudit audit, TokenUsageRecorder usage) : ApiTokenEvents
{
    public override Task TokenValidated(ApiTokenValidatedContext context)
    {
        usage.Record(context.TokenId, new TokenUsage(context.At, context.HttpContext.Connection.RemoteIpAddress, context.Via));
        return base.TokenValidated(context);
    }

    public override Task AuthenticationFailed(ApiTokenFailedContext context)
    {
        throttle.RecordFailure(context.Address);
        audit.Record(context.Address, context.Failure.Code, context.Hint);
        return base.AuthenticationFailed(context);
    }
}
