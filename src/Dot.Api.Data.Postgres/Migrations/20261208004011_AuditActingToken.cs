using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dot.Api.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class AuditActingToken : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ActorTokenHint",
                table: "audit_events",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ActorTokenId",
                table: "audit_events",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ActorTokenHint",
                table: "audit_events");

            migrationBuilder.DropColumn(
                name: "ActorTokenId",
                table: "audit_events");
        }
    }
}
