namespace Dot.Api.Connectors;

/// <summary>
/// A SQL Server column's type as SQL Server writes it in DDL, from sys.columns and sys.types
/// (learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-columns-transact-sql):
/// <c>max_length</c> is in bytes, so an <c>nvarchar</c>/<c>nchar</c> length is half of it, and -1 is <c>max</c>;
/// <c>decimal</c>/<c>numeric</c> take (precision,scale); <c>datetime2</c>, <c>time</c> and <c>datetimeoffset</c> take
/// their fractional-second scale. A user-defined (alias or CLR) type is its schema-qualified name; every other type
/// is its name (<c>int</c>, <c>float</c>, <c>sysname</c>, <c>geography</c>).
/// </summary>
internal static class MssqlTypes
{
    public static string Format(string name, string? schema, bool userDefined, int maxLength, int precision, int scale)
    {
        if (userDefined)
        {
            return string.IsNullOrEmpty(schema) ? name : $"{schema}.{name}";
        }

        return name switch
        {
            "varchar" or "char" or "varbinary" or "binary" => $"{name}({Length(maxLength, 1)})",
            "nvarchar" or "nchar" => $"{name}({Length(maxLength, 2)})",
            "decimal" or "numeric" => $"{name}({precision},{scale})",
            "datetime2" or "time" or "datetimeoffset" => $"{name}({scale})",
            _ => name,
        };
    }

    private static string Length(int maxLength, int bytesPerCharacter) => maxLength == -1 ? "max" : (maxLength / bytesPerCharacter).ToString(System.Globalization.CultureInfo.InvariantCulture);
}
