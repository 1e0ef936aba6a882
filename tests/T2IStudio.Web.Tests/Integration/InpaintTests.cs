using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Generation.Pipelines;
using T2IStudio.Generation.Schedulers;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>Inpainting through the queue on the embedded model: lineage, untouched pixels, refusals.</summary>
public sealed class InpaintTests : IClassFixture<InpaintTests.OneImage>
{
    private const int Side = 64;
    private readonly OneImage _world;

    public InpaintTests(OneImage world) => _world = world;

    /// <summary>Alice has one 64×64 image; Bob has an account.</summary>
    public sealed class OneImage : IAsyncLifetime
    {
        public StudioAppFactory App { get; } = new();

        public AppUser Alice { get; private set; } = null!;

        public AppUser Bob { get; private set; } = null!;

        public Guid ImageId { get; private set; }

        public async Task InitializeAsync()
        {
            Alice = await App.CreateUserAsync("alice@example.test");
            Bob = await App.CreateUserAsync("bob@example.test");
            ImageId = (await App.GenerateAsync(Alice, GenerationQueueTests.Request(prompt: "a blue square", steps: 6))).ImageIds.Single();
        }

        public Task DisposeAsync()
        {
            App.Dispose();
            return Task.CompletedTask;
        }
    }

    /// <summary>A band across rows 28–35 of a 64×64 mask.</summary>
    private static byte[] BandMask(int width = Side, int height = Side)
    {
        var values = new byte[width * height];
        for (var y = 28; y < Math.Min(36, height); y++)
        {
            Array.Fill(values, (byte)255, y * width, width);
        }
        return MaskFiles.Encode(new GrayMask(width, height, values));
    }

    private InpaintJobRequest Request(byte[]? mask = null, Guid? source = null) => new()
    {
        Model = "t2istudio-tiny",
        SourceImageId = source ?? _world.ImageId,
        MaskPng = mask ?? BandMask(),
        MaskBlur = 2,
        Request = new GenerationRequest { Prompt = "a red band", Steps = 8, Width = Side, Height = Side, GuidanceScale = 4, Scheduler = SchedulerKind.Ddim, Seed = 3, Strength = 0.9 },
    };

    private async Task<SubmitResult> SubmitAsync(AppUser user, InpaintJobRequest request)
    {
        using var scope = _world.App.Services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<GenerationService>().SubmitInpaintAsync(StudioAppFactory.PrincipalOf(user), request);
    }

    [Fact]
    public async Task Inpainting_a_gallery_image_makes_a_child_with_parent_and_mask_that_keeps_every_pixel_outside_the_feather()
    {
        using var waiter = new JobWaiter(_world.App.Services, _world.Alice.Id);
        var submitted = await SubmitAsync(_world.Alice, Request());
        Assert.True(submitted.Succeeded, string.Join(" ", submitted.Errors));
        var childId = (await waiter.WaitForAsync<JobCompleted>(submitted.JobId!.Value)).ImageIds.Single();

        await using var db = await _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var parent = await db.Images.SingleAsync(i => i.Id == _world.ImageId);
        var child = await db.Images.SingleAsync(i => i.Id == childId);
        Assert.Equal(_world.ImageId, child.ParentImageId);
        Assert.NotNull(child.MaskFileKey);
        var store = _world.App.Services.GetRequiredService<ImageStore>();
        var storedMask = MaskFiles.Decode(await store.ReadAsync(child.MaskFileKey!.Value), Side, Side);
        Assert.Equal(255, storedMask.Values[30 * Side + 10]);
        Assert.Equal(0, storedMask.Values[5 * Side + 10]);

        var before = Decode(await store.ReadAsync(parent.FileKey));
        var after = Decode(await store.ReadAsync(child.FileKey));
        // Blur 2 reaches 3 × 2 = 6 rows past the band (22–41); every byte outside is the parent's.
        for (var y = 0; y < Side; y++)
        {
            if (y is >= 22 and <= 41)
            {
                continue;
            }
            Assert.True(before.Pixels.AsSpan(y * Side * 3, Side * 3).SequenceEqual(after.Pixels.AsSpan(y * Side * 3, Side * 3)), $"row {y} changed");
        }
        Assert.False(before.Pixels.AsSpan(31 * Side * 3, Side * 3).SequenceEqual(after.Pixels.AsSpan(31 * Side * 3, Side * 3)), "the band did not change");

        using var png = new MemoryStream(await store.ReadAsync(child.FileKey));
        var text = PngFiles.ReadText(png);
        Assert.Contains("Denoising strength: 0.9", text.Parameters, StringComparison.Ordinal);
        Assert.Contains("Mask blur: 2", text.Parameters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_users_image_cannot_be_a_source_and_its_editor_page_answers_404()
    {
        var refused = await SubmitAsync(_world.Bob, Request());
        Assert.Equal(["That image is not available."], refused.Errors);

        using var bob = _world.App.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(bob, _world.Bob.Email!, TestAccounts.Password)).StatusCode);
        var page = await bob.GetAsync(new Uri($"/inpaint?image={_world.ImageId}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        var missing = await bob.GetAsync(new Uri($"/inpaint?image={Guid.NewGuid()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var alice = _world.App.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(alice, _world.Alice.Email!, TestAccounts.Password)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(new Uri($"/inpaint?image={_world.ImageId}", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_mismatched_empty_oversized_or_unreadable_mask_is_refused_with_a_clear_message_and_nothing_is_queued()
    {
        await using var db = await _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var jobsBefore = await db.Jobs.CountAsync();

        Assert.Equal(["The mask is 32×32; the image is 64×64."], (await SubmitAsync(_world.Alice, Request(BandMask(32, 32)))).Errors);
        var empty = MaskFiles.Encode(new GrayMask(Side, Side, new byte[Side * Side]));
        Assert.Equal(["The mask is empty: paint the area to change."], (await SubmitAsync(_world.Alice, Request(empty))).Errors);
        Assert.StartsWith("The mask is 8 MB", Assert.Single((await SubmitAsync(_world.Alice, Request(new byte[MaskFiles.MaxBytes + 1]))).Errors), StringComparison.Ordinal);
        Assert.Equal(["The mask is not a readable PNG image."], (await SubmitAsync(_world.Alice, Request("not a png"u8.ToArray()))).Errors);
        var badOptions = await SubmitAsync(_world.Alice, Request() with { MaskBlur = 65, OnlyMasked = true, Padding = 300 });
        Assert.Contains("Mask blur must be between 0 and 64 pixels.", badOptions.Errors);
        Assert.Contains("Padding must be between 0 and 256 pixels.", badOptions.Errors);

        Assert.Equal(jobsBefore, await db.Jobs.CountAsync());
    }

    [Fact]
    public async Task An_uploaded_source_is_inpainted_at_its_own_size_and_files_of_a_refused_or_repeated_submit_do_not_linger()
    {
        // A 96×64 upload: a multiple of the factor and within twice the native side, so it is worked on as is.
        var upload = RgbImage.Filled(96, 64, 200, 200, 40);
        var values = new byte[96 * 64];
        Array.Fill(values, (byte)255, 20 * 96, 96 * 8);
        var mask = MaskFiles.Encode(new GrayMask(96, 64, values));
        using var waiter = new JobWaiter(_world.App.Services, _world.Alice.Id);
        var request = Request(mask) with { SourceImageId = null, UploadedSource = upload, IdempotencyKey = "upload-press" };
        request = request with { Request = request.Request with { Width = 96, Height = 64 } };

        var first = await SubmitAsync(_world.Alice, request);
        var again = await SubmitAsync(_world.Alice, request);
        Assert.Equal(first.JobId, again.JobId);
        var childId = (await waiter.WaitForAsync<JobCompleted>(first.JobId!.Value)).ImageIds.Single();

        await using var db = await _world.App.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        var child = await db.Images.SingleAsync(i => i.Id == childId);
        Assert.Equal((96, 64), (child.Width, child.Height));
        Assert.Null(child.ParentImageId);
        var store = _world.App.Services.GetRequiredService<ImageStore>();
        var after = Decode(await store.ReadAsync(child.FileKey));
        Assert.Equal([200, 200, 40], after.Pixels.Take(3).Select(b => (int)b)); // row 0 is far from the band: untouched
        // Only the first press's source and mask stayed on disk.
        var job = await db.Jobs.SingleAsync(j => j.Id == first.JobId);
        var referenced = await db.Jobs.Where(j => j.SourceFileKey != null).Select(j => j.SourceFileKey!.Value).ToListAsync();
        Assert.Contains(job.SourceFileKey!.Value, referenced);
        var files = Directory.EnumerateFiles(Path.Combine(_world.App.StorageRoot, "images"), "*.png", SearchOption.AllDirectories)
            .Select(f => Guid.ParseExact(Path.GetFileName(f).Split('.')[0], "N")).ToHashSet();
        var known = new HashSet<Guid>(await db.Images.Select(i => i.FileKey).ToListAsync());
        known.UnionWith(referenced);
        known.UnionWith(await db.Jobs.Where(j => j.MaskFileKey != null).Select(j => j.MaskFileKey!.Value).ToListAsync());
        Assert.Subset(known, files);
    }

    private static RgbImage Decode(byte[] png)
    {
        using var stream = new MemoryStream(png);
        return PngFiles.Decode(stream);
    }
}
