using System.CommandLine;
using Dot.Api.Access;
using Dot.Api.Cli;
using Dot.Api.Validation;

namespace Dot.Api.Users;

/// <summary>
/// <c>dot-api users add | list | set-password</c> (API.md §6). <c>add</c> prints the new user's id; passwords are read
/// from standard input only (<c>--password-stdin</c>), so they stay out of the shell history and the process list.
/// </summary>
internal sealed class UsersCli : ICliCommands
{
    private static readonly Option<string> Email = CliCommands.Text("--email", "The user's email address.", required: true);
    private static readonly Option<string> RoleName = CliCommands.Text("--role", "admin, modeler or user.", required: true);
    private static readonly Option<string> Name = CliCommands.Text("--name", "The display name (default: the email).");
    private static readonly Option<bool> PasswordStdin = CliCommands.Flag("--password-stdin", "Read the password from the first line of standard input.");
    private static readonly Option<bool> Service = CliCommands.Flag("--service", "A service account (kind=service): no password, no web sign-in; an admin gives it tokens.");

    public void AddTo(RootCommand root)
    {
        var users = root.Group("users", "Users: add one, list them, set a password.");
        users.Verb("add", "Add a user; prints its id.", AddAsync, Email, RoleName, Name, PasswordStdin, Service);
        users.Verb("list", "One line per user: id, email, role, disabled, has_password, kind.", ListAsync);
        users.Verb("set-password", "Set a user's password, read from standard input; their web sessions end.", SetPasswordAsync,
            Email, PasswordStdin);
    }

    private static async Task<int> AddAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var service = parse.GetValue(Service);
        if (service && parse.GetValue(PasswordStdin))
        {
            throw new CliUsageException("--service and --password-stdin do not go together: a service account has no password.");
        }

        var errors = new FieldErrors();
        var email = parse.GetRequiredValue(Email);
        UserService.ValidateEmail(email, errors);
        var role = UserService.ParseRole(parse.GetRequiredValue(RoleName), errors, required: true);
        var name = parse.GetValue(Name);
        UserService.ValidateName(name, errors);
        var password = parse.GetValue(PasswordStdin) ? await ReadPasswordAsync(cli, errors, ct) : null;
        CliCommands.ThrowIfInvalid(errors);
        var user = await cli.Get<UserService>().CreateAsync(email, name, role!.Value, password, service ? UserKind.Service : UserKind.Person, ct)
            ?? throw new CliRefusedException($"a user with email {email} already exists.");
        await cli.Stdout.WriteLineAsync(user.Id.ToString());
        return 0;
    }

    private static async Task<int> ListAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var users = cli.Get<UserService>();
        await cli.Stdout.WriteLineAsync("id\temail\trole\tdisabled\thas_password\tkind");
        (DateTime At, Guid Id)? after = null;
        while (true)
        {
            var page = await users.ListAsync(500, after, ct);
            foreach (var u in page)
            {
                await cli.Stdout.WriteLineAsync(string.Join('\t', u.Id, u.Email, u.Role.ToName(), Bool(u.Disabled), Bool(u.PasswordHash is not null), u.Kind.ToName()));
            }

            if (page.Count < 500)
            {
                return 0;
            }

            after = (page[^1].CreatedAt, page[^1].Id);
        }
    }

    private static async Task<int> SetPasswordAsync(ParseResult parse, CliContext cli, CancellationToken ct)
    {
        var email = parse.GetRequiredValue(Email);
        if (!parse.GetValue(PasswordStdin))
        {
            throw new CliUsageException("--password-stdin is required: the password is read from standard input only.");
        }

        var errors = new FieldErrors();
        var password = await ReadPasswordAsync(cli, errors, ct);
        CliCommands.ThrowIfInvalid(errors);
        var users = cli.Get<UserService>();
        var user = await users.FindByEmailAsync(email, ct) ?? throw new CliRefusedException($"no user with email {email}.");
        if (user.Kind == UserKind.Service)
        {
            throw new CliRefusedException($"{user.Email} is a service account: it has no password.");
        }

        users.SetPassword(user, password);
        await users.SaveAsync(user, ct);
        await cli.Stdout.WriteLineAsync($"password set for {user.Email}");
        return 0;
    }

    private static async Task<string> ReadPasswordAsync(CliContext cli, FieldErrors errors, CancellationToken ct)
    {
        var password = (await cli.Stdin.ReadLineAsync(ct))?.TrimEnd('\r');
        if (string.IsNullOrEmpty(password))
        {
            throw new CliUsageException("--password-stdin given but no password was read from standard input.");
        }

        UserService.ValidatePassword(password, errors);
        return password;
    }

    private static string Bool(bool value) => value ? "true" : "false";
}
