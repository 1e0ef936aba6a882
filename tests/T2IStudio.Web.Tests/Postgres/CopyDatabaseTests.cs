extern alias cli;

using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using cli::T2IStudio.Cli;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Comments;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Teams;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;
using T2IStudio.Web.Workers;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary><c>t2i copy-database</c>: a SQLite studio moves to PostgreSQL with every row and file reference.</summary>
public sealed class CopyDatabaseTests
{
    [Fact]
    public async Task A_used_SQLite_studio_copies_into_PostgreSQL_row_for_row_and_runs_there_and_a_second_copy_is_refused()
    {
        var root = Directory.CreateTempSubdirectory("t2i-copy-").FullName;
        try
        {
            var (owner, imageId, inpaintJobId) = await FillSqliteAsync(root);
            await using var database = await TestServices.CreatePostgresDatabaseAsync();
            var sqlite = Path.Combine(root, StorageOptions.DatabaseFileName);

            var (code, output, errors) = await RunAsync("copy-database", "--from", sqlite, "--to", database.ConnectionString, "--storage", root);
            Assert.True(code == 0, errors);
            Assert.Contains("Copied ", output, StringComparison.Ordinal);
            Assert.Contains(" files the rows name are under ", output, StringComparison.Ordinal);

            await using (var source = Sqlite(sqlite))
            await using (var target = Postgres(database.ConnectionString))
            {
                await AssertSameRowsAsync<IdentityRole>(source, target);
                await AssertSameRowsAsync<AppUser>(source, target);
                await AssertSameRowsAsync<IdentityRoleClaim<string>>(source, target);
                await AssertSameRowsAsync<IdentityUserClaim<string>>(source, target);
                await AssertSameRowsAsync<IdentityUserLogin<string>>(source, target);
                await AssertSameRowsAsync<IdentityUserRole<string>>(source, target);
                await AssertSameRowsAsync<IdentityUserToken<string>>(source, target);
                await AssertSameRowsAsync<DataProtectionKey>(source, target);
                await AssertSameRowsAsync<Team>(source, target, minimum: 1);
                await AssertSameRowsAsync<TeamMember>(source, target, minimum: 2);
                await AssertSameRowsAsync<TeamInvitation>(source, target, minimum: 1);
                await AssertSameRowsAsync<InviteLink>(source, target);
                await AssertSameRowsAsync<WorkerKey>(source, target, minimum: 1);
                await AssertSameRowsAsync<ApiToken>(source, target, minimum: 1);
                await AssertSameRowsAsync<SavedPrompt>(source, target, minimum: 2);
                await AssertSameRowsAsync<Gallery>(source, target, minimum: 1);
                await AssertSameRowsAsync<Job>(source, target, minimum: 2);
                await AssertSameRowsAsync<GeneratedImage>(source, target, minimum: 2);
                await AssertSameRowsAsync<GalleryItem>(source, target, minimum: 1);
                await AssertSameRowsAsync<Favorite>(source, target, minimum: 1);
                await AssertSameRowsAsync<Comment>(source, target, minimum: 1);
                var inpaint = await target.Jobs.AsNoTracking().SingleAsync(j => j.Id == inpaintJobId);
                Assert.NotNull(inpaint.SourceFileKey);
                Assert.NotNull(inpaint.MaskFileKey);
                Assert.Equal(1, await target.UserRoles.CountAsync());
            }

            await using (var app = PostgresAppFactory.OnDatabase(database.ConnectionString, new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" }, root))
            {
                var client = app.CreateBrowserlikeClient();
                var signedIn = await TestAccounts.SignInAsync(client, owner.Email!, TestAccounts.Password);
                Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
                Assert.DoesNotContain("Login", signedIn.Headers.Location!.OriginalString, StringComparison.Ordinal);
                var served = await client.GetByteArrayAsync(new Uri($"/images/{imageId}", UriKind.Relative));
                await using (var target = Postgres(database.ConnectionString))
                {
                    var fileKey = (await target.Images.AsNoTracking().SingleAsync(i => i.Id == imageId)).FileKey;
                    Assert.Equal(await File.ReadAllBytesAsync(StudioDatabaseCopy.ImageFilePath(root, fileKey)), served);
                }
                using var scope = app.Services.CreateScope();
                var found = await scope.ServiceProvider.GetRequiredService<ImageLibrary>().PageAsync(StudioAppFactory.PrincipalOf(owner), new GalleryFilter("LIGHTHOUSE dusk"), 0, 10);
                Assert.Equal([imageId], found.Tiles.Select(t => t.Id));
            }

            var again = await RunAsync("copy-database", "--from", sqlite, "--to", database.ConnectionString);
            Assert.Equal(1, again.Code);
            Assert.StartsWith("t2i: The PostgreSQL database already has rows (AspNetRoles: 1); copy-database only fills an empty database.", again.Errors, StringComparison.Ordinal);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A studio used as people use it: accounts, an admin, a team with a gallery, jobs, an inpainting, tokens and keys.</summary>
    private static async Task<(AppUser Owner, Guid ImageId, Guid InpaintJobId)> FillSqliteAsync(string root)
    {
        await using var app = new StudioAppFactory(root);
        var owner = await app.CreateUserAsync("copy-owner@example.test");
        var member = await app.CreateUserAsync("copy-member@example.test");
        await app.MakeAdminAsync(owner);
        using var scope = app.Services.CreateScope();
        var services = scope.ServiceProvider;
        var ownerP = StudioAppFactory.PrincipalOf(owner);
        var teams = services.GetRequiredService<TeamService>();
        var teamId = (await teams.CreateAsync(ownerP, "Movers")).Id!.Value;
        Assert.True((await teams.JoinByInvitationAsync(ownerP, teamId, member, TeamRole.Editor)).Succeeded);
        Assert.True((await teams.InviteAsync(ownerP, teamId, "copy-later@example.test", TeamRole.Viewer)).Succeeded);
        var galleryId = (await services.GetRequiredService<GalleryService>().CreateAsync(ownerP, "Coast", teamId)).Id!.Value;

        var imageId = (await app.GenerateAsync(owner, GenerationQueueTests.Request(prompt: "a lighthouse at dusk", steps: 2) with { GalleryId = galleryId })).ImageIds.Single();
        await app.GenerateAsync(member, GenerationQueueTests.Request(prompt: "a harbour in fog", steps: 2));
        Assert.True(await services.GetRequiredService<ImageLibrary>().SetFavoriteAsync(StudioAppFactory.PrincipalOf(member), imageId, true));
        Assert.True((await services.GetRequiredService<CommentService>().AddAsync(StudioAppFactory.PrincipalOf(member), imageId, "Lovely light")).Succeeded);

        var mask = new byte[64 * 64];
        Array.Fill(mask, (byte)255, 28 * 64, 8 * 64);
        using var waiter = new JobWaiter(app.Services, owner.Id);
        var inpaint = await services.GetRequiredService<GenerationService>().SubmitInpaintAsync(ownerP, new InpaintJobRequest
        {
            Model = "t2istudio-tiny",
            SourceImageId = imageId,
            MaskPng = MaskFiles.Encode(new GrayMask(64, 64, mask)),
            MaskBlur = 2,
            Request = new GenerationRequest { Prompt = "a lighthouse with a red band", Steps = 2, Width = 64, Height = 64, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 3, Strength = 0.9 },
        });
        Assert.True(inpaint.Succeeded, string.Join(" ", inpaint.Errors));
        await waiter.WaitForAsync<JobCompleted>(inpaint.JobId!.Value);

        await app.CreateTokenAsync(owner);
        Assert.True((await services.GetRequiredService<WorkerKeyService>().CreateAsync(ownerP, "gpu-box")).Succeeded);
        return (owner, imageId, inpaint.JobId.Value);
    }

    private static async Task AssertSameRowsAsync<T>(AppDbContext source, AppDbContext target, int minimum = 0)
        where T : class
    {
        var expected = (await source.Set<T>().AsNoTracking().ToListAsync()).Select(r => JsonSerializer.Serialize(r)).Order(StringComparer.Ordinal).ToList();
        var actual = (await target.Set<T>().AsNoTracking().ToListAsync()).Select(r => JsonSerializer.Serialize(r)).Order(StringComparer.Ordinal).ToList();
        Assert.True(expected.Count >= minimum, $"{typeof(T).Name}: only {expected.Count} rows to copy");
        Assert.Equal(expected, actual);
    }

    private static AppDbContext Sqlite(string path) =>
        new(new DbContextOptionsBuilder<AppDbContext>().UseSqlite($"Data Source={path};Pooling=False").Options);

    private static AppDbContext Postgres(string connectionString)
    {
        var options = new DbContextOptionsBuilder<AppDbContext>();
        DataServiceExtensions.UsePostgres(options, connectionString);
        return new AppDbContext(options.Options);
    }

    private static async Task<(int Code, string Output, string Errors)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var code = await T2iCommand.RunAsync(args, output, errors);
        return (code, output.ToString(), errors.ToString());
    }
}
