using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Dot.Api.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Catalog : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "catalogs",
                columns: table => new
                {
                    ConnectionType = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ConnectionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SyncId = table.Column<Guid>(type: "TEXT", nullable: false),
                    SyncedAt = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalogs", x => new { x.ConnectionType, x.ConnectionId });
                    table.ForeignKey(
                        name: "FK_catalogs_connections_ConnectionType_ConnectionId",
                        columns: x => new { x.ConnectionType, x.ConnectionId },
                        principalTable: "connections",
                        principalColumns: new[] { "Type", "Id" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "catalog_schemas",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ConnectionType = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ConnectionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Database = table.Column<string>(type: "TEXT", nullable: true),
                    Description = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_schemas", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_schemas_catalogs_ConnectionType_ConnectionId",
                        columns: x => new { x.ConnectionType, x.ConnectionId },
                        principalTable: "catalogs",
                        principalColumns: new[] { "ConnectionType", "ConnectionId" },
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "catalog_tables",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    SchemaId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ConnectionType = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ConnectionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_tables", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_tables_catalog_schemas_SchemaId",
                        column: x => x.SchemaId,
                        principalTable: "catalog_schemas",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "catalog_columns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    TableId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ConnectionType = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ConnectionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Name = table.Column<string>(type: "TEXT", nullable: false),
                    DataType = table.Column<string>(type: "TEXT", nullable: true),
                    Nullable = table.Column<bool>(type: "INTEGER", nullable: true),
                    Position = table.Column<int>(type: "INTEGER", nullable: false),
                    Description = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_catalog_columns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_catalog_columns_catalog_tables_TableId",
                        column: x => x.TableId,
                        principalTable: "catalog_tables",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_columns_ConnectionType_ConnectionId",
                table: "catalog_columns",
                columns: new[] { "ConnectionType", "ConnectionId" });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_columns_TableId",
                table: "catalog_columns",
                column: "TableId");

            migrationBuilder.CreateIndex(
                name: "IX_catalog_schemas_ConnectionType_ConnectionId_Name_Database",
                table: "catalog_schemas",
                columns: new[] { "ConnectionType", "ConnectionId", "Name", "Database" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_catalog_tables_ConnectionType_ConnectionId",
                table: "catalog_tables",
                columns: new[] { "ConnectionType", "ConnectionId" });

            migrationBuilder.CreateIndex(
                name: "IX_catalog_tables_SchemaId_Name",
                table: "catalog_tables",
                columns: new[] { "SchemaId", "Name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "catalog_columns");

            migrationBuilder.DropTable(
                name: "catalog_tables");

            migrationBuilder.DropTable(
                name: "catalog_schemas");

            migrationBuilder.DropTable(
                name: "catalogs");
        }
    }
}
