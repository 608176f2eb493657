namespace Dot.Api.Infrastructure;

/// <summary>
/// Endpoint metadata: a request body that this endpoint accepts as it is, shown by Swagger UI as the operation's example.
/// It is an instance of the request type itself, so it is serialized with the same JSON options the endpoint reads —
/// its field names cannot drift from the wire (a test sends every example and checks the answer).
/// </summary>
public sealed class ExampleBodyMetadata(object value)
{
    public object Value { get; } = value;
}

public static class ExampleBodyExtensions
{
    public static TBuilder WithExampleBody<TBuilder>(this TBuilder builder, object example)
        where TBuilder : IEndpointConventionBuilder
        => builder.WithMetadata(new ExampleBodyMetadata(example));
}
