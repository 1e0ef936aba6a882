using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Migrations
{
    /// <inheritdoc />
    public partial class WorkerLeases : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "CancelRequested",
                table: "Jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "LeaseExpiresAt",
                table: "Jobs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "LeaseId",
                table: "Jobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "LeaseWorkerId",
                table: "Jobs",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "WorkerName",
                table: "Jobs",
                type: "TEXT",
                maxLength: 100,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "WorkerKeys",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    KeyHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Prefix = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedById = table.Column<string>(type: "TEXT", maxLength: 450, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastUsedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    RevokedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_WorkerKeys", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_WorkerKeys_KeyHash",
                table: "WorkerKeys",
                column: "KeyHash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_WorkerKeys_Name",
                table: "WorkerKeys",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "WorkerKeys");

            migrationBuilder.DropColumn(
                name: "CancelRequested",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "LeaseExpiresAt",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "LeaseId",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "LeaseWorkerId",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "WorkerName",
                table: "Jobs");
        }
    }
}
