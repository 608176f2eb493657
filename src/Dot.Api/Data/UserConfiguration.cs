using Dot.Api.Access;
using Dot.Api.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Dot.Api.Data;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Email).HasMaxLength(User.MaxEmailLength).IsRequired();
        builder.Property(u => u.NormalizedEmail).HasMaxLength(User.MaxEmailLength).IsRequired();
        builder.HasIndex(u => u.NormalizedEmail).IsUnique();
        builder.Property(u => u.Name).HasMaxLength(User.MaxNameLength).IsRequired();
        builder.Property(u => u.Role).HasConversion(r => r.ToName(), s => ParseRole(s)).HasMaxLength(16);
        builder.Property(u => u.Kind).HasConversion(k => k.ToName(), s => ParseKind(s))
            .HasMaxLength(16).HasDefaultValue(UserKind.Person).HasSentinel(UserKind.Person);
        builder.Property(u => u.PasswordHash).HasMaxLength(User.MaxPasswordHashLength);
        builder.HasIndex(u => u.CreatedAt);
    }

    internal static UserKind ParseKind(string value) => UserKinds.TryParse(value, out var kind) ? kind : UserKind.Person;

    internal static Role ParseRole(string value) => Roles.TryParse(value, out var role) ? role : Role.User;
}
