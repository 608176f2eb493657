using Dot.Api.Connections;
using Dot.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dot.Api.Sync;

public static class WebhookExtensions
{
    /// <summary>
    /// Verified webhooks of sync triggers: their settings (<c>Dot:Webhooks</c>), the deliveries' store, its hourly
    /// pruning, and forgetting a deleted connection's.
    /// </summary>
    public static IServiceCollection AddWebhookDeliveries(this IServiceCollection services)
    {
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddScoped<WebhookDeliveries>();
        services.AddScoped<IConnectionDeletionHandler, ForgetDeliveriesOfDeletedConnection>();
        services.AddSingleton<WebhookDeliveryPruner>();
        services.AddPeriodicFlusher<WebhookDeliveryPruner>(_ => WebhookDeliveryPruner.Interval);
        return services;
    }
}
