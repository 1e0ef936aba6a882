using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Migrations
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
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            // Accounts made before email existed here could never confirm: they count as confirmed, so turning on
            // Accounts:RequireConfirmedEmail (or linking a company sign-in by email) does not lock out the team.
            migrationBuilder.Sql("UPDATE \"AspNetUsers\" SET \"EmailConfirmed\" = 1;");
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
