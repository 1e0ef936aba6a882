using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class CompanyAccounts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "EmailOnImageActivity",
                table: "AspNetUsers",
                type: "boolean",
                nullable: false,
                defaultValue: false);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "EmailOnImageActivity",
                table: "AspNetUsers");
        }
    }
}
