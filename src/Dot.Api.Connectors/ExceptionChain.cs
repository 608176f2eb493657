namespace Dot.Api.Connectors;

/// <summary>What the connectors look for in a client library's exception: the first of a type along the inner exceptions.</summary>
internal static class ExceptionChain
{
    public static T? Find<T>(Exception? ex)
        where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
            {
                return found;
            }
        }

        return null;
    }
}
