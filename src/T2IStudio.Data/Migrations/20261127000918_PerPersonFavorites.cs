using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Migrations
{
    /// <inheritdoc />
    public partial class PerPersonFavorites : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Favorites",
                columns: table => new
                {
                    UserId = table.Column<string>(type: "TEXT", nullable: false),
                    ImageId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Favorites", x => new { x.UserId, x.ImageId });
                    table.ForeignKey(
                        name: "FK_Favorites_AspNetUsers_UserId",
                        column: x => x.UserId,
                        principalTable: "AspNetUsers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_Favorites_Images_ImageId",
                        column: x => x.ImageId,
                        principalTable: "Images",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Favorites_ImageId",
                table: "Favorites",
                column: "ImageId");

            // Stars were the owner's: they become the owner's favourites.
            migrationBuilder.Sql("INSERT INTO Favorites (UserId, ImageId, CreatedAt) SELECT OwnerId, Id, CreatedAt FROM Images WHERE IsFavorite = 1;");

            migrationBuilder.DropIndex(
                name: "IX_Images_OwnerId_IsFavorite",
                table: "Images");

            // SQLite's own DROP COLUMN keeps the table and its rowids, which the prompt search index and its
            // triggers refer to; EF's table rebuild would drop the triggers and renumber the rows.
            migrationBuilder.Sql("ALTER TABLE Images DROP COLUMN IsFavorite;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "Favorites");

            migrationBuilder.AddColumn<bool>(
                name: "IsFavorite",
                table: "Images",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "IX_Images_OwnerId_IsFavorite",
                table: "Images",
                columns: new[] { "OwnerId", "IsFavorite" });
        }
    }
}
