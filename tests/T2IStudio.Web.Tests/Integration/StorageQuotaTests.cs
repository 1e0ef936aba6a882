using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary><c>Storage:QuotaMegabytesPerUser</c>: submits past it are refused in words, under it they queue, and the account page shows the usage.</summary>
public sealed class StorageQuotaTests : IClassFixture<StorageQuotaTests.OneMegabyteQuota>
{
    private const long Megabyte = StorageQuota.BytesPerMegabyte;
    private readonly StudioAppFactory _app;

    public StorageQuotaTests(OneMegabyteQuota world) => _app = world.App;

    /// <summary>An app whose quota is 1 MB a person and whose worker does not run (nothing here needs images made).</summary>
    public sealed class OneMegabyteQuota : IDisposable
    {
        public StudioAppFactory App { get; } = new(settings: new Dictionary<string, string?>
        {
            ["Storage:QuotaMegabytesPerUser"] = "1",
            ["Queue:RunWorker"] = "false",
        });

        public void Dispose() => App.Dispose();
    }

    [Fact]
    public async Task Past_the_quota_generate_and_inpaint_are_refused_with_the_usage_and_the_limit_and_nothing_is_queued()
    {
        var full = await _app.CreateUserAsync("full@example.test");
        await StoreImageAsync(full, Megabyte + Megabyte / 2);
        using var scope = _app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        const string expected = "Your images use 1.5 MB of your 1 MB of storage. Delete some images to make room, then try again.";

        var generate = await service.SubmitAsync(StudioAppFactory.PrincipalOf(full), GenerationQueueTests.Request());
        Assert.Equal([expected], generate.Errors);
        var inpaint = await service.SubmitInpaintAsync(StudioAppFactory.PrincipalOf(full), new InpaintJobRequest
        {
            Model = "t2istudio-tiny",
            Request = GenerationQueueTests.Request().Request,
            UploadedSource = RgbImage.Filled(64, 64, 10, 20, 30),
            MaskPng = MaskFiles.Encode(new GrayMask(64, 64, Enumerable.Repeat((byte)255, 64 * 64).ToArray())),
        });
        Assert.Equal([expected], inpaint.Errors);

        await using var db = await Db().CreateDbContextAsync();
        Assert.Equal(1, await db.Jobs.CountAsync(j => j.OwnerId == full.Id)); // only the seeded, finished one
    }

    [Fact]
    public async Task Under_the_quota_a_submit_is_queued()
    {
        var light = await _app.CreateUserAsync("light@example.test");
        await StoreImageAsync(light, Megabyte / 2);
        using var scope = _app.Services.CreateScope();
        var submitted = await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitAsync(StudioAppFactory.PrincipalOf(light), GenerationQueueTests.Request());
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
    }

    [Fact]
    public async Task Usage_counts_the_images_pngs_and_the_inpainting_sources_and_masks_on_disk_and_nobody_elses()
    {
        var owner = await _app.CreateUserAsync("counted@example.test");
        var other = await _app.CreateUserAsync("other-counted@example.test");
        var jobId = await StoreImageAsync(owner, 300_000);
        await StoreImageAsync(other, 5 * Megabyte);
        var store = _app.Services.GetRequiredService<ImageStore>();
        var source = await store.WritePngAsync(new byte[70_000]);
        var mask = await store.WritePngAsync(new byte[1_000]);
        await using (var db = await Db().CreateDbContextAsync())
        {
            var job = await db.Jobs.SingleAsync(j => j.Id == jobId);
            job.SourceFileKey = source.Key;
            job.MaskFileKey = mask.Key;
            await db.SaveChangesAsync();
        }

        using var scope = _app.Services.CreateScope();
        var usage = await scope.ServiceProvider.GetRequiredService<StorageQuota>().UsageAsync(owner.Id);
        Assert.Equal(300_000 + 70_000 + 1_000, usage.UsedBytes);
        Assert.Equal(Megabyte, usage.QuotaBytes);
    }

    [Fact]
    public async Task The_account_page_shows_the_usage_against_the_quota_and_says_when_it_is_full()
    {
        var user = await _app.CreateUserAsync("page@example.test");
        await StoreImageAsync(user, Megabyte + Megabyte / 2);
        using var client = _app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, "page@example.test", TestAccounts.Password)).StatusCode);

        var page = await client.GetAsync(new Uri("/Account/Manage", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<dd data-testid=\"storage-usage\">1.5 MB of 1 MB</dd>", html, StringComparison.Ordinal);
        Assert.Contains("Your storage is full", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(12_900_000L, null, "12.3 MB used")]
    [InlineData(12_900_000L, 500L, "12.3 MB of 500 MB")]
    [InlineData(0L, null, "0 MB used")]
    public void Usage_reads_as_megabytes_with_one_decimal(long used, long? quotaMegabytes, string expected) =>
        Assert.Equal(expected, new StorageUsage(used, quotaMegabytes * Megabyte).Describe());

    /// <summary>A finished job with one image row of <paramref name="sizeBytes"/> (its file is not needed to count it).</summary>
    private async Task<Guid> StoreImageAsync(AppUser owner, long sizeBytes)
    {
        await using var db = await Db().CreateDbContextAsync();
        var now = DateTimeOffset.UtcNow;
        var job = new Job
        {
            Id = Guid.NewGuid(), OwnerId = owner.Id, Status = JobStatus.Completed, Model = "t2istudio-tiny", Prompt = "stored",
            RequestJson = "{}", BatchSize = 1, TotalSteps = 1, Width = 64, Height = 64, CreatedAt = now, FinishedAt = now,
        };
        db.Jobs.Add(job);
        db.Images.Add(new GeneratedImage
        {
            Id = Guid.NewGuid(), OwnerId = owner.Id, JobId = job.Id, Model = "t2istudio-tiny", Prompt = "stored", Width = 64, Height = 64,
            RequestJson = "{}", FileKey = Guid.NewGuid(), Sha256 = "0", SizeBytes = sizeBytes, CreatedAt = now,
        });
        await db.SaveChangesAsync();
        return job.Id;
    }

    private IDbContextFactory<AppDbContext> Db() => _app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>();
}
