using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MovieService.Infrastructure.Migrations
{
    /// <summary>
    /// sort=-year became the exact reverse of sort=year, read backwards from the ascending year index:
    /// MariaDB 10.11 (Debian 12's) did not choose the descending index for a deep page and sorted the
    /// owner's movies instead. The descending index has no query left.
    /// </summary>
    public partial class YearSortOneIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_movies_OwnerId_ReleaseYearDesc_Title",
                table: "movies");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_movies_OwnerId_ReleaseYearDesc_Title",
                table: "movies",
                columns: new[] { "OwnerId", "ReleaseYear", "Title" },
                descending: new[] { false, true, false });
        }
    }
}
