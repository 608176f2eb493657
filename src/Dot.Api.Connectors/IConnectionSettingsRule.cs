using System.Text.Json;
using Dot.Api.Validation;

namespace Dot.Api.Connectors;

/// <summary>
/// A rule a connection type adds to creation (the dbt connector's on <c>manifest_path</c>, say), which the server runs
/// on every connection it is asked to store, after its own checks: adds errors keyed by the field as the client sent it
/// (<c>settings.manifest_path</c>). Register implementations in DI; each sees every connection and checks its own type.
/// </summary>
public interface IConnectionSettingsRule
{
    /// <param name="type">The connection's type, such as <c>dbt</c>.</param>
    /// <param name="settings">Its settings (secrets are not shown to a rule).</param>
    void Check(string type, IReadOnlyDictionary<string, JsonElement> settings, FieldErrors errors);
}
