using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace T2IStudio.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class PromptSearch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Gallery search as SQLite's FTS5 index (unicode61 remove_diacritics 2) behaves: words of the prompt and
            // the negative prompt, lower-cased ('simple' keeps every word, no stemming) with diacritics removed.
            // unaccent() is only STABLE (its dictionary could change), so a generated column needs an IMMUTABLE
            // wrapper that names the dictionary and the schema itself.
            migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;");
            migrationBuilder.Sql("""
                CREATE FUNCTION public.t2i_unaccent(text) RETURNS text
                LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
                AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;
                """);
            migrationBuilder.Sql("""
                ALTER TABLE "Images" ADD COLUMN "PromptSearch" tsvector
                GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, public.t2i_unaccent("Prompt" || ' ' || "NegativePrompt"))) STORED;
                """);
            migrationBuilder.Sql("""CREATE INDEX "IX_Images_PromptSearch" ON "Images" USING GIN ("PromptSearch");""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP INDEX "IX_Images_PromptSearch";""");
            migrationBuilder.Sql("""ALTER TABLE "Images" DROP COLUMN "PromptSearch";""");
            migrationBuilder.Sql("DROP FUNCTION public.t2i_unaccent(text);");
        }
    }
}
