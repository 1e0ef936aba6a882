using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class TeamWorkflow : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AllowedModels",
                table: "Teams",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "DailyImageLimit",
                table: "Teams",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "TeamId",
                table: "Jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "ReviewState",
                table: "GalleryItems",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ReviewedAt",
                table: "GalleryItems",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewedById",
                table: "GalleryItems",
                type: "character varying(450)",
                maxLength: 450,
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "ReviewRequired",
                table: "Galleries",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<Guid>(
                name: "GalleryId",
                table: "Comments",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Review",
                table: "Comments",
                type: "integer",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Notifications",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    UserId = table.Column<string>(type: "text", nullable: false),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false),
                    Text = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: false),
                    Link = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    ReadAt = table.Column<long>(type: "bigint", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Notifications", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Notifications_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "StudioSettings",
                columns: table => new
                {
                    Key = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Value = table.Column<string>(type: "text", nullable: false),
                    UpdatedAt = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_StudioSettings", x => x.Key);
                });

            migrationBuilder.CreateTable(
                name: "Styles",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: false),
                    Prompt = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    NegativePrompt = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    OwnerUserId = table.Column<string>(type: "text", nullable: true),
                    TeamId = table.Column<Guid>(type: "uuid", nullable: true),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                    Scheduler = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    Steps = table.Column<int>(type: "integer", nullable: true),
                    Guidance = table.Column<double>(type: "double precision", nullable: true),
                    Width = table.Column<int>(type: "integer", nullable: true),
                    Height = table.Column<int>(type: "integer", nullable: true),
                    CreatedById = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: false),
                    CreatedAt = table.Column<long>(type: "bigint", nullable: false),
                    UpdatedAt = table.Column<long>(type: "bigint", nullable: false),
                    ConcurrencyStamp = table.Column<Guid>(type: "uuid", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Styles", x => x.Id);
                    table.CheckConstraint("CK_Styles_OneOwner", "(\"OwnerUserId\" IS NULL) <> (\"TeamId\" IS NULL)");
                    table.ForeignKey(
                        name: "FK_Styles_AspNetUsers_OwnerUserId",
                        column: x => x.OwnerUserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Styles_Teams_TeamId",
                        column: x => x.TeamId,
                        principalTable: "Teams",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "TeamActivities",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    TeamId = table.Column<Guid>(type: "uuid", nullable: false),
                    At = table.Column<long>(type: "bigint", nullable: false),
                    ActorId = table.Column<string>(type: "text", nullable: false),
                    Kind = table.Column<int>(type: "integer", nullable: false),
                    GalleryId = table.Column<Guid>(type: "uuid", nullable: true),
                    GalleryName = table.Column<string>(type: "character varying(80)", maxLength: 80, nullable: true),
                    ImageId = table.Column<Guid>(type: "uuid", nullable: true),
                    SubjectUserId = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true),
                    Detail = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_TeamActivities", x => x.Id);
                    table.ForeignKey(
                        name: "FK_TeamActivities_AspNetUsers_ActorId",
                        column: x => x.ActorId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_TeamActivities_Galleries_GalleryId",
                        column: x => x.GalleryId,
                        principalTable: "Galleries",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_TeamActivities_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_TeamActivities_Teams_TeamId",
                        column: x => x.TeamId,
                        principalTable: "Teams",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_TeamId_CreatedAt",
                table: "Jobs",
                columns: new[] { "TeamId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Comments_GalleryId",
                table: "Comments",
                column: "GalleryId");

            migrationBuilder.CreateIndex(
                name: "IX_Notifications_UserId_CreatedAt",
                table: "Notifications",
                columns: new[] { "UserId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Styles_OwnerUserId_Name",
                table: "Styles",
                columns: new[] { "OwnerUserId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Styles_TeamId_Name",
                table: "Styles",
                columns: new[] { "TeamId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_TeamActivities_ActorId",
                table: "TeamActivities",
                column: "ActorId");

            migrationBuilder.CreateIndex(
                name: "IX_TeamActivities_GalleryId",
                table: "TeamActivities",
                column: "GalleryId");

            migrationBuilder.CreateIndex(
                name: "IX_TeamActivities_ImageId",
                table: "TeamActivities",
                column: "ImageId");

            migrationBuilder.CreateIndex(
                name: "IX_TeamActivities_TeamId_At",
                table: "TeamActivities",
                columns: new[] { "TeamId", "At" });

            migrationBuilder.AddForeignKey(
                name: "FK_Comments_Galleries_GalleryId",
                table: "Comments",
                column: "GalleryId",
                principalTable: "Galleries",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "FK_Jobs_Teams_TeamId",
                table: "Jobs",
                column: "TeamId",
                principalTable: "Teams",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Comments_Galleries_GalleryId",
                table: "Comments");

            migrationBuilder.DropForeignKey(
                name: "FK_Jobs_Teams_TeamId",
                table: "Jobs");

            migrationBuilder.DropTable(
                name: "Notifications");

            migrationBuilder.DropTable(
                name: "StudioSettings");

            migrationBuilder.DropTable(
                name: "Styles");

            migrationBuilder.DropTable(
                name: "TeamActivities");

            migrationBuilder.DropIndex(
                name: "IX_Jobs_TeamId_CreatedAt",
                table: "Jobs");

            migrationBuilder.DropIndex(
                name: "IX_Comments_GalleryId",
                table: "Comments");

            migrationBuilder.DropColumn(
                name: "AllowedModels",
                table: "Teams");

            migrationBuilder.DropColumn(
                name: "DailyImageLimit",
                table: "Teams");

            migrationBuilder.DropColumn(
                name: "TeamId",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "ReviewState",
                table: "GalleryItems");

            migrationBuilder.DropColumn(
                name: "ReviewedAt",
                table: "GalleryItems");

            migrationBuilder.DropColumn(
                name: "ReviewedById",
                table: "GalleryItems");

            migrationBuilder.DropColumn(
                name: "ReviewRequired",
                table: "Galleries");

            migrationBuilder.DropColumn(
                name: "GalleryId",
                table: "Comments");

            migrationBuilder.DropColumn(
                name: "Review",
                table: "Comments");
        }
    }
}
