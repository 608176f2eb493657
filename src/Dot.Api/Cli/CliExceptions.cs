namespace Dot.Api.Cli;

/// <summary>Thrown for a command line that cannot be run (exit 2); the message is the one line printed on stderr.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>A well-formed command the data refuses (no such user, email taken): exit 1.</summary>
public sealed class CliRefusedException(string message) : Exception(message);
