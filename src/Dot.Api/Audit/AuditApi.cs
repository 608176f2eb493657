using Dot.Api.Access;
using Dot.Api.Data;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dot.Api.Audit;

public sealed record AuditEventDto(
    Guid Id, string Type, DateTime OccurredAt, Guid? ActorId, Guid? ActorTokenId, string? ActorTokenHint, Guid? SubjectUserId,
    string? Target, string? Address, string? Detail, int Count);

internal static class AuditApi
{
    public static RouteGroupBuilder MapAudit(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/audit_events")
            .WithTags("Audit")
            .RequireRole(Role.Admin);

        group.MapGet("/", ListAsync)
            .RequireScope(Scopes.Audit)
            .WithName("ListAuditEvents")
            .WithSummary("Audit trail, newest first")
            .WithDescription("Filters: type (e.g. token.created, auth.failed), user_id (as actor or subject), from and to (ISO-8601, [from, to)). Paged with limit and cursor. actor_token_id and actor_token_hint name the API token the actor authenticated with (null for a web session or the command line). auth.failed events count failures per address, reason and token hint over a few seconds.");

        return group;
    }

    private static async Task<Results<Ok<Page<AuditEventDto>>, InvalidProblem>> ListAsync(
        string? type, [FromQuery(Name = "user_id")] string? userId, string? from, string? to, [AsParameters] PageRequest paging,
        DotDbContext db, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var (take, after) = paging.Read(Page.TimeAndId, errors);
        if (type is not null && !AuditEventTypes.All.Contains(type))
        {
            errors.Add("type", $"type must be one of: {string.Join(", ", AuditEventTypes.All.Order())}.");
        }

        Guid? user = null;
        if (userId is not null)
        {
            if (Guid.TryParse(userId, out var id))
            {
                user = id;
            }
            else
            {
                errors.Add("user_id", "user_id must be a user id.");
            }
        }

        var fromTime = ParseTime(from, "from", errors);
        var toTime = ParseTime(to, "to", errors);
        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var query = db.AuditEvents.AsNoTracking();
        if (type is not null)
        {
            query = query.Where(e => e.Type == type);
        }

        if (user is { } u)
        {
            query = query.Where(e => e.ActorId == u || e.SubjectUserId == u);
        }

        if (fromTime is { } f)
        {
            query = query.Where(e => e.OccurredAt >= f);
        }

        if (toTime is { } t)
        {
            query = query.Where(e => e.OccurredAt < t);
        }

        if (after is { } c)
        {
            query = query.Where(e => e.OccurredAt < c.At || (e.OccurredAt == c.At && e.Id < c.Id));
        }

        var rows = await query.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id).Take(take + 1)
            .Select(e => new AuditEventDto(e.Id, e.Type, e.OccurredAt, e.ActorId, e.ActorTokenId, e.ActorTokenHint, e.SubjectUserId, e.Target, e.Address, e.Detail, e.Count))
            .ToListAsync(ct);
        return TypedResults.Ok(Page.From(rows, take, e => e, Page.TimeAndId, e => (e.OccurredAt, e.Id)));
    }

    private static DateTime? ParseTime(string? text, string field, FieldErrors errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateTime.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var value))
        {
            return DateTime.SpecifyKind(value, DateTimeKind.Utc);
        }

        errors.Add(field, $"{field} must be an ISO-8601 time such as 2026-01-15T12:00:00Z.");
        return null;
    }
}

public static class AuditExtensions
{
    /// <summary>The audit log, and the counted authentication failures with their flush (<c>Dot:Audit</c>, checked at start).</summary>
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddOptions<AuditOptions>().BindConfiguration(AuditOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuditOptions>, AuditOptionsValidator>();
        services.AddHttpContextAccessor();
        services.AddScoped<AuditLog>();
        services.AddSingleton<AuthFailureAudit>();
        services.AddPeriodicFlusher<AuthFailureAudit>(sp => sp.GetRequiredService<IOptions<AuditOptions>>().Value.Flush);
        return services;
    }
}
