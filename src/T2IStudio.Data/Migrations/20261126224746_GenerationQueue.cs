using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Migrations
{
    /// <inheritdoc />
    public partial class GenerationQueue : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CreateSettingsJson",
                table: "AspNetUsers",
                type: "TEXT",
                maxLength: 8000,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Jobs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: false),
                    Status = table.Column<int>(type: "INTEGER", nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Prompt = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    RequestJson = table.Column<string>(type: "TEXT", nullable: false),
                    BatchSize = table.Column<int>(type: "INTEGER", nullable: false),
                    TotalSteps = table.Column<int>(type: "INTEGER", nullable: false),
                    Step = table.Column<int>(type: "INTEGER", nullable: false),
                    Width = table.Column<int>(type: "INTEGER", nullable: false),
                    Height = table.Column<int>(type: "INTEGER", nullable: false),
                    IdempotencyKey = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    StartedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Error = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    PromptId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ConcurrencyStamp = table.Column<Guid>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Jobs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Jobs_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Prompts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: false),
                    Text = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    NegativeText = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    Hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    LastUsedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UseCount = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Prompts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Prompts_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "Images",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    OwnerId = table.Column<string>(type: "TEXT", nullable: false),
                    JobId = table.Column<Guid>(type: "TEXT", nullable: false),
                    BatchIndex = table.Column<int>(type: "INTEGER", nullable: false),
                    Seed = table.Column<long>(type: "INTEGER", nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ModelHash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Prompt = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    NegativePrompt = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: false),
                    Width = table.Column<int>(type: "INTEGER", nullable: false),
                    Height = table.Column<int>(type: "INTEGER", nullable: false),
                    Parameters = table.Column<string>(type: "TEXT", nullable: false),
                    RequestJson = table.Column<string>(type: "TEXT", nullable: false),
                    FileKey = table.Column<Guid>(type: "TEXT", nullable: false),
                    Sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    SizeBytes = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    IsFavorite = table.Column<bool>(type: "INTEGER", nullable: false),
                    ParentImageId = table.Column<Guid>(type: "TEXT", nullable: true),
                    MaskFileKey = table.Column<Guid>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Images", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Images_AspNetUsers_OwnerId",
                        column: x => x.OwnerId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Images_Jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "Jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Images_FileKey",
                table: "Images",
                column: "FileKey",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Images_JobId",
                table: "Images",
                column: "JobId");

            migrationBuilder.CreateIndex(
                name: "IX_Images_OwnerId_CreatedAt",
                table: "Images",
                columns: new[] { "OwnerId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_OwnerId_IsFavorite",
                table: "Images",
                columns: new[] { "OwnerId", "IsFavorite" });

            migrationBuilder.CreateIndex(
                name: "IX_Images_OwnerId_Model",
                table: "Images",
                columns: new[] { "OwnerId", "Model" });

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_OwnerId_CreatedAt",
                table: "Jobs",
                columns: new[] { "OwnerId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_OwnerId_IdempotencyKey",
                table: "Jobs",
                columns: new[] { "OwnerId", "IdempotencyKey" },
                unique: true,
                filter: "IdempotencyKey IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_Status_CreatedAt",
                table: "Jobs",
                columns: new[] { "Status", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Prompts_OwnerId_Hash",
                table: "Prompts",
                columns: new[] { "OwnerId", "Hash" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Prompts_OwnerId_LastUsedAt",
                table: "Prompts",
                columns: new[] { "OwnerId", "LastUsedAt" });

            // Prompt search in the gallery: an FTS5 index over the images' prompts (an external-content
            // table, so the text is stored once), kept in step by triggers.
            migrationBuilder.Sql("""
                CREATE VIRTUAL TABLE ImageSearch USING fts5(Prompt, NegativePrompt, content='Images', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2');
                CREATE TRIGGER Images_search_insert AFTER INSERT ON Images BEGIN
                    INSERT INTO ImageSearch(rowid, Prompt, NegativePrompt) VALUES (new.rowid, new.Prompt, new.NegativePrompt);
                END;
                CREATE TRIGGER Images_search_delete AFTER DELETE ON Images BEGIN
                    INSERT INTO ImageSearch(ImageSearch, rowid, Prompt, NegativePrompt) VALUES ('delete', old.rowid, old.Prompt, old.NegativePrompt);
                END;
                CREATE TRIGGER Images_search_update AFTER UPDATE OF Prompt, NegativePrompt ON Images BEGIN
                    INSERT INTO ImageSearch(ImageSearch, rowid, Prompt, NegativePrompt) VALUES ('delete', old.rowid, old.Prompt, old.NegativePrompt);
                    INSERT INTO ImageSearch(rowid, Prompt, NegativePrompt) VALUES (new.rowid, new.Prompt, new.NegativePrompt);
                END;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER IF EXISTS Images_search_insert;
                DROP TRIGGER IF EXISTS Images_search_delete;
                DROP TRIGGER IF EXISTS Images_search_update;
                DROP TABLE IF EXISTS ImageSearch;
                """);

            migrationBuilder.DropTable(
                name: "Images");

            migrationBuilder.DropTable(
                name: "Prompts");

            migrationBuilder.DropTable(
                name: "Jobs");

            migrationBuilder.DropColumn(
                name: "CreateSettingsJson",
                table: "AspNetUsers");
        }
    }
}
