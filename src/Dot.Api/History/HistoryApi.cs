using System.Globalization;
using Dot.Api.Access;
using Dot.Api.Authentication;
using Dot.Api.Infrastructure;
using Dot.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Dot.Api.History;

internal static class HistoryApi
{
    public const int DefaultDays = 14;

    public static RouteGroupBuilder MapHistory(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api")
            .WithTags("History")
            .RequireRole(Role.Modeler);

        group.MapGet("/export_history", Export)
            .AllowApiTokenInQuery()
            .RequireScope(Scopes.History)
            .WithName("ExportHistory")
            .WithSummary("Export conversation history")
            .WithDescription("Conversations with messages in [start_date, end_date) (YYYY-MM-DD, UTC days; defaults: 14 days "
                + "ago and tomorrow), each with only its messages in that window (message_count and last_message_at count "
                + "those). format=json (default, one array), ndjson (a conversation per line) or csv (a header row, then a "
                + "row per message). Streamed. Also accepts ?user_id=…&api_token=… for scripts and webhooks.");

        return group;
    }

    private static Results<HistoryExportResult, InvalidProblem> Export(
        [FromQuery(Name = "start_date")] string? startDate, [FromQuery(Name = "end_date")] string? endDate,
        string? format, TimeProvider time)
    {
        var errors = new FieldErrors();
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var start = ParseDate(startDate, "start_date", today.AddDays(-DefaultDays), errors);
        var end = ParseDate(endDate, "end_date", today.AddDays(1), errors);
        var exportFormat = ParseFormat(format, errors);
        if (errors.IsEmpty && start > end)
        {
            errors.Add("start_date", "start_date must not be after end_date.");
        }

        if (!errors.IsEmpty)
        {
            return errors.ToProblem();
        }

        var window = new ExportWindow(start.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), end.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        return new HistoryExportResult(window, exportFormat);
    }

    private static DateOnly ParseDate(string? value, string field, DateOnly fallback, FieldErrors errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            return fallback;
        }

        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        errors.Add(field, $"{field} must be a date as YYYY-MM-DD.");
        return fallback;
    }

    private static ExportFormat ParseFormat(string? value, FieldErrors errors)
    {
        switch (value?.ToLowerInvariant())
        {
            case null or "" or "json": return ExportFormat.Json;
            case "ndjson": return ExportFormat.Ndjson;
            case "csv": return ExportFormat.Csv;
            default:
                errors.Add("format", "format must be json, ndjson or csv.");
                return ExportFormat.Json;
        }
    }
}
