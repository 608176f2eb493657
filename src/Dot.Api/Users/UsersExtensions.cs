using Dot.Api.Cli;
using Microsoft.AspNetCore.Identity;

namespace Dot.Api.Users;

public static class UsersExtensions
{
    public static IServiceCollection AddUsers(this IServiceCollection services)
    {
        services.AddScoped<UserService>();
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddCliCommands<UsersCli>();
        return services;
    }
}
