using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dot.Api.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class LeastPrivilege : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Kind",
                table: "users",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "person");

            migrationBuilder.AddColumn<string>(
                name: "AllowedIps",
                table: "api_tokens",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Scopes",
                table: "api_tokens",
                type: "TEXT",
                maxLength: 4000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Kind",
                table: "users");

            migrationBuilder.DropColumn(
                name: "AllowedIps",
                table: "api_tokens");

            migrationBuilder.DropColumn(
                name: "Scopes",
                table: "api_tokens");
        }
    }
}
