using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Migrations
{
    /// <inheritdoc />
    public partial class InpaintSources : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "MaskFileKey",
                table: "Jobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "ParentImageId",
                table: "Jobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SourceFileKey",
                table: "Jobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Images_ParentImageId",
                table: "Images",
                column: "ParentImageId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Images_ParentImageId",
                table: "Images");

            migrationBuilder.DropColumn(
                name: "MaskFileKey",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "ParentImageId",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "SourceFileKey",
                table: "Jobs");
        }
    }
}
