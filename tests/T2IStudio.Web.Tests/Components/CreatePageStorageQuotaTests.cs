using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Storage;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class CreatePageStorageQuotaTests : StudioComponentTestBase
{
    [Fact]
    public async Task Past_the_storage_quota_Generate_shows_the_usage_and_the_limit_and_keeps_the_prompt()
    {
        AddGenerationServices(quotaMegabytesPerUser: 2);
        var user = await AddUserAsync("storage-full@example.test");
        await using (var db = CreateDb())
        {
            var now = DateTimeOffset.UtcNow;
            var job = new Job
            {
                Id = Guid.NewGuid(), OwnerId = user.Id, Status = JobStatus.Completed, Model = "t2istudio-tiny", Prompt = "old",
                RequestJson = "{}", BatchSize = 1, TotalSteps = 1, Width = 64, Height = 64, CreatedAt = now, FinishedAt = now,
            };
            db.Jobs.Add(job);
            db.Images.Add(new GeneratedImage
            {
                Id = Guid.NewGuid(), OwnerId = user.Id, JobId = job.Id, Model = "t2istudio-tiny", Prompt = "old", Width = 64, Height = 64,
                RequestJson = "{}", FileKey = Guid.NewGuid(), Sha256 = "0", SizeBytes = 3 * StorageQuota.BytesPerMegabyte, CreatedAt = now,
            });
            await db.SaveChangesAsync();
        }
        var auth = AddAuthorization();
        auth.SetAuthorized(user.Email!);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
        UseRealResourceChecks();
        var page = Render<CreatePage>();
        page.WaitForAssertion(() => page.Find("textarea"));

        await page.InvokeAsync(() => page.FindAll("textarea")[0].Input("one more, please"));
        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").Click());

        page.WaitForAssertion(() => Assert.Contains(
            "Your images use 3 MB of your 2 MB of storage. Delete some images to make room, then try again.",
            page.Find("[data-testid=validation-errors]").TextContent, StringComparison.Ordinal));
        Assert.Equal("one more, please", page.FindAll("textarea")[0].GetAttribute("value") ?? page.FindAll("textarea")[0].TextContent);
        await using var check = CreateDb();
        Assert.Equal(1, await check.Jobs.CountAsync());
    }
}
