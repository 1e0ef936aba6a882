using System.Security.Claims;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Imaging;
using T2IStudio.Web.Components.Inpaint;
using T2IStudio.Web.Images;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components.Inpaint;

public sealed class InpaintSourcePickerTests : StudioComponentTestBase
{
    private const string ModulePath = "./Components/Inpaint/InpaintSourcePicker.razor.js";

    [Fact]
    public async Task Lists_the_persons_own_recent_images_newest_first_and_raises_the_chosen_id()
    {
        var me = await SignInAsync("chooser@example.test");
        var other = await AddUserAsync("other@example.test");
        var start = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var fox = await AddImageAsync(me.Id, "a red fox", start);
        await AddImageAsync(me.Id, "a blue whale", start.AddMinutes(1));
        await AddImageAsync(other.Id, "someone else's cat", start.AddMinutes(2));
        var chosen = new List<Guid>();

        var picker = Render<InpaintSourcePicker>(p => p.Add(c => c.OnImageChosen, (Guid id) => chosen.Add(id)));

        picker.WaitForAssertion(() => Assert.Equal(
            ["Inpaint image: a blue whale", "Inpaint image: a red fox"],
            picker.FindAll("button.studio-thumb-button").Select(b => b.GetAttribute("aria-label"))));
        Assert.Equal($"/images/{fox}/thumb", picker.Find("img[alt='a red fox']").GetAttribute("src"));
        picker.Find("button[aria-label='Inpaint image: a red fox']").Click();
        Assert.Equal([fox], chosen);
    }

    [Fact]
    public async Task Someone_without_images_is_offered_the_upload_and_Create()
    {
        await SignInAsync("empty@example.test");

        var picker = Render<InpaintSourcePicker>();

        picker.WaitForAssertion(() => Assert.Contains("No images yet — create one", picker.Markup, StringComparison.Ordinal));
        Assert.Equal("inpaint-upload", picker.Find("label.studio-upload-label").GetAttribute("for"));
        Assert.Contains("Upload image", picker.Find("label.studio-upload-label").TextContent, StringComparison.Ordinal);
        Assert.Equal("/", picker.FindAll("a").Single(a => a.TextContent.Contains("Go to Create", StringComparison.Ordinal)).GetAttribute("href"));
    }

    [Fact]
    public async Task An_accepted_upload_comes_back_with_its_object_URL_and_label_and_letting_go_of_it_revokes_the_URL()
    {
        await SignInAsync("uploader@example.test");
        var module = JSInterop.SetupModule(ModulePath);
        module.Setup<string?>("fileUrl", _ => true).SetResult("blob:green");
        module.SetupVoid("revokeUrl", _ => true).SetVoidResult();
        InpaintUpload? uploaded = null;
        var picker = Render<InpaintSourcePicker>(p => p.Add(c => c.OnUploaded, (InpaintUpload u) => uploaded = u));
        picker.WaitForAssertion(() => picker.Find("label.studio-upload-label"));

        var png = PngFiles.Encode(RgbImage.Filled(96, 64, 30, 160, 90), null, null);
        picker.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromBinary(png, "green.png", contentType: "image/png"));

        picker.WaitForAssertion(() => Assert.NotNull(uploaded));
        Assert.Equal(("blob:green", "Uploaded green.png", 96, 64), (uploaded!.Url, uploaded.Label, uploaded.Image.Width, uploaded.Image.Height));
        Assert.DoesNotContain(module.Invocations, i => i.Identifier == "revokeUrl");
        await uploaded.DisposeAsync();
        Assert.Equal("blob:green", Assert.Single(module.Invocations, i => i.Identifier == "revokeUrl").Arguments[0]);
    }

    [Fact]
    public async Task A_file_that_is_not_an_image_gets_its_refusal_in_a_snackbar_and_nothing_is_raised()
    {
        await SignInAsync("refused@example.test");
        var uploads = 0;
        var picker = Render<InpaintSourcePicker>(p => p.Add(c => c.OnUploaded, (InpaintUpload _) => uploads++));
        picker.WaitForAssertion(() => picker.Find("label.studio-upload-label"));

        picker.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromText("not an image", "notes.png", contentType: "image/png"));

        picker.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars,
            s => s.Message?.Contains("This file is not a PNG, JPEG or WebP image.", StringComparison.Ordinal) == true));
        Assert.Equal(0, uploads);
    }

    [Fact]
    public async Task When_the_browser_no_longer_has_the_file_the_person_is_asked_to_choose_it_again()
    {
        await SignInAsync("lost@example.test");
        JSInterop.SetupModule(ModulePath).Setup<string?>("fileUrl", _ => true).SetResult(null);
        var uploads = 0;
        var picker = Render<InpaintSourcePicker>(p => p.Add(c => c.OnUploaded, (InpaintUpload _) => uploads++));
        picker.WaitForAssertion(() => picker.Find("label.studio-upload-label"));

        var png = PngFiles.Encode(RgbImage.Filled(32, 32, 200, 40, 40), null, null);
        picker.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromBinary(png, "red.png", contentType: "image/png"));

        picker.WaitForAssertion(() => Assert.Contains(Services.GetRequiredService<ISnackbar>().ShownSnackbars,
            s => s.Message == "The browser lost the file; choose it again."));
        Assert.Equal(0, uploads);
    }

    private async Task<Guid> AddImageAsync(string ownerId, string prompt, DateTimeOffset createdAt)
    {
        await using var db = CreateDb();
        var job = new Job
        {
            Id = Guid.NewGuid(), OwnerId = ownerId, Status = JobStatus.Completed, Model = "t2istudio-tiny", Prompt = prompt,
            RequestJson = "{}", BatchSize = 1, TotalSteps = 1, Width = 64, Height = 64, CreatedAt = createdAt, FinishedAt = createdAt,
        };
        var image = new GeneratedImage
        {
            Id = Guid.NewGuid(), OwnerId = ownerId, JobId = job.Id, Model = "t2istudio-tiny", Prompt = prompt, Width = 64, Height = 64,
            RequestJson = "{}", FileKey = Guid.NewGuid(), Sha256 = new string('0', 64), CreatedAt = createdAt,
        };
        db.Jobs.Add(job);
        db.Images.Add(image);
        await db.SaveChangesAsync();
        return image.Id;
    }
}
