using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace MovieService.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class YearSortIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_movies_OwnerId_ReleaseYear_Title",
                table: "movies",
                columns: new[] { "OwnerId", "ReleaseYear", "Title" });

            migrationBuilder.CreateIndex(
                name: "IX_movies_OwnerId_ReleaseYearDesc_Title",
                table: "movies",
                columns: new[] { "OwnerId", "ReleaseYear", "Title" },
                descending: new[] { false, true, false });

            // Dropped last: the year filter keeps an index while the new ones are built.
            migrationBuilder.DropIndex(
                name: "IX_movies_OwnerId_ReleaseYear",
                table: "movies");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "IX_movies_OwnerId_ReleaseYear",
                table: "movies",
                columns: new[] { "OwnerId", "ReleaseYear" });

            migrationBuilder.DropIndex(
                name: "IX_movies_OwnerId_ReleaseYear_Title",
                table: "movies");

            migrationBuilder.DropIndex(
                name: "IX_movies_OwnerId_ReleaseYearDesc_Title",
                table: "movies");
        }
    }
}
