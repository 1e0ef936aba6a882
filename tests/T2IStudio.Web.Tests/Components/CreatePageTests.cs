using System.Security.Claims;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Generation.Tokenization;
using T2IStudio.Web.Components.Jobs;
using T2IStudio.Web.Components.Shared;
using T2IStudio.Web.Components.Create;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Components;

public sealed class CreatePageTests : StudioComponentTestBase
{
    private static readonly ClipTokenizer Tokenizer = ClipTokenizer.FromFolder(Path.Combine(RepositoryRoot.Path, "models", "t2istudio-tiny", "tokenizer"));

    [Fact]
    public void The_token_count_follows_the_typing_and_warns_past_75()
    {
        var prompt = "";
        var editor = Render<PromptEditor>(p => p
            .Add(e => e.Tokenizer, Tokenizer)
            .Add(e => e.Prompt, prompt)
            .Add(e => e.PromptChanged, (string v) => prompt = v));
        Assert.Equal("0 / 75", editor.Find("[data-testid=token-count]").TextContent.Trim());

        editor.Find("textarea").Input("a red circle, (bright:1.3)");
        Assert.Equal("5 / 75", editor.Find("[data-testid=token-count]").TextContent.Trim());
        Assert.Equal("a red circle, (bright:1.3)", prompt);
        Assert.Empty(editor.FindAll("[data-testid=token-warning]"));

        editor.Find("textarea").Input(string.Join(' ', Enumerable.Repeat("circle", 80)));
        Assert.Equal("80 / 75", editor.Find("[data-testid=token-count]").TextContent.Trim());
        Assert.Contains("ignores the rest", editor.Find("[data-testid=token-warning]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void For_a_model_that_reads_several_chunks_the_count_grows_by_chunks_and_warns_only_past_the_last()
    {
        var prompt = "";
        var editor = Render<PromptEditor>(p => p
            .Add(e => e.Tokenizer, Tokenizer)
            .Add(e => e.MaxChunks, 2)
            .Add(e => e.Prompt, prompt)
            .Add(e => e.PromptChanged, (string v) => prompt = v));
        Assert.Equal("0 / 75", editor.Find("[data-testid=token-count]").TextContent.Trim());

        editor.Find("textarea").Input(string.Join(' ', Enumerable.Repeat("circle", 80)));
        Assert.Equal("80 / 150", editor.Find("[data-testid=token-count]").TextContent.Trim());
        Assert.Empty(editor.FindAll("[data-testid=token-warning]"));

        editor.Find("textarea").Input(string.Join(' ', Enumerable.Repeat("circle", 160)));
        Assert.Equal("160 / 150", editor.Find("[data-testid=token-count]").TextContent.Trim());
        Assert.Contains("Over 150 tokens", editor.Find("[data-testid=token-warning]").TextContent, StringComparison.Ordinal);
    }

    [Fact]
    public void Ctrl_enter_in_the_prompt_submits_and_plain_enter_does_not()
    {
        var submits = 0;
        var editor = Render<PromptEditor>(p => p.Add(e => e.Tokenizer, Tokenizer).Add(e => e.OnSubmit, () => submits++));

        editor.Find("textarea").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "Enter" });
        editor.Find("textarea").KeyDown(new Microsoft.AspNetCore.Components.Web.KeyboardEventArgs { Key = "Enter", CtrlKey = true });

        Assert.Equal(1, submits);
    }

    [Fact]
    public void A_queue_item_shows_its_progress_its_preview_and_cancel_raises_the_callback()
    {
        var cancelled = new List<Guid>();
        var job = new JobCardState { Id = Guid.NewGuid(), Prompt = "a blue square", Status = JobStatus.Running, Step = 30, TotalSteps = 100, PreviewUrl = "data:image/jpeg;base64,AAAA" };
        var card = Render<JobCard>(p => p.Add(c => c.Job, job).Add(c => c.OnCancel, (Guid id) => cancelled.Add(id)));

        Assert.Equal("30", card.Find("[role=progressbar]").GetAttribute("aria-valuenow"));
        Assert.Equal("data:image/jpeg;base64,AAAA", card.Find("img[alt='Live preview']").GetAttribute("src"));
        Assert.Equal("Step 30 of 100", card.Find("[data-testid=job-status]").TextContent.Trim());

        card.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click();
        Assert.Equal([job.Id], cancelled);
    }

    [Fact]
    public async Task Generate_queues_a_job_whose_card_takes_live_progress_and_a_preview_and_cancel_cancels_it_in_the_database()
    {
        var (page, user) = await RenderCreateAsync("create@example.test");

        TypePrompt(page, "a green triangle");
        ClickGenerate(page);

        var job = await WaitForJobAsync(page, user.Id);
        Assert.Equal("a green triangle", job.Prompt);
        Assert.Equal(JobStatus.Queued, job.Status);
        // No worker is connected (the test host runs none): the card says what it waits for.
        page.WaitForAssertion(() => Assert.Equal("Waiting for a worker with t2istudio-tiny", page.Find("[data-testid=job-status]").TextContent.Trim()));
        // A worker with the model joins: the next pushed standing (StandingsPublisher's tick) puts the job next in line.
        Services.GetRequiredService<T2IStudio.Web.Workers.WorkerRegistry>().Join(
            new T2IStudio.Generation.Workers.WorkerHello(Guid.NewGuid(), "late-box", "cpu", null, ["t2istudio-tiny"], "test"), T2IStudio.Web.Workers.WorkerKind.Remote, _ => Task.CompletedTask);
        await Services.GetRequiredService<T2IStudio.Web.Jobs.StandingsPublisher>().PublishAsync();
        page.WaitForAssertion(() => Assert.Contains("Next in line", page.Find("[data-testid=job-status]").TextContent, StringComparison.Ordinal), TimeSpan.FromSeconds(10));

        // What the worker would push: progress with a preview.
        Services.GetRequiredService<StudioNotifier>().Publish(new JobProgress(job.Id, user.Id, 5, 10, [0xFF, 0xD8, 0xFF]));
        page.WaitForAssertion(() =>
        {
            Assert.Equal("50", page.Find("[role=progressbar]").GetAttribute("aria-valuenow"));
            Assert.Equal("data:image/jpeg;base64,/9j/", page.Find("img[alt='Live preview']").GetAttribute("src"));
        });

        await page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Cancel").Click());
        page.WaitForAssertion(() => Assert.Equal("Cancelled", page.Find("[data-testid=job-status]").TextContent.Trim()));
        await using var db = CreateDb();
        Assert.Equal(JobStatus.Canceled, (await db.Jobs.SingleAsync()).Status);
    }

    [Fact]
    public async Task A_failed_job_shows_its_reason_on_its_card_and_in_a_snackbar()
    {
        var (page, user) = await RenderCreateAsync("failed@example.test");
        TypePrompt(page, "a yellow star");
        ClickGenerate(page);
        var job = await WaitForJobAsync(page, user.Id);

        Services.GetRequiredService<StudioNotifier>().Publish(new JobFailed(job.Id, user.Id, "There is no model 'retired-model'."));

        page.WaitForAssertion(() =>
        {
            Assert.Equal("Failed", page.Find("[data-testid=job-status]").TextContent.Trim());
            Assert.Equal("There is no model 'retired-model'.", page.Find("[role=alert]").TextContent.Trim());
        });
        Assert.Contains(Services.GetRequiredService<MudBlazor.ISnackbar>().ShownSnackbars, s => s.Message?.Contains("retired-model", StringComparison.Ordinal) == true);
        Assert.Equal("a yellow star", page.FindAll("textarea")[0].GetAttribute("value") ?? page.FindAll("textarea")[0].TextContent);
    }

    [Fact]
    public async Task A_refused_submit_shows_the_reason_and_keeps_the_prompt()
    {
        var (page, user) = await RenderCreateAsync("quota@example.test", maxQueuedPerUser: 1);

        TypePrompt(page, "first");
        ClickGenerate(page);
        await WaitForJobAsync(page, user.Id);
        TypePrompt(page, "second, which is over the limit");
        ClickGenerate(page);

        page.WaitForAssertion(() => Assert.Contains("the most allowed is 1", page.Find("[data-testid=validation-errors]").TextContent, StringComparison.Ordinal));
        Assert.Equal("second, which is over the limit", page.FindAll("textarea")[0].GetAttribute("value") ?? page.FindAll("textarea")[0].TextContent);
        await using var db = CreateDb();
        Assert.Equal(1, await db.Jobs.CountAsync());
    }

    [Fact]
    public async Task Parameters_are_remembered_for_the_next_visit()
    {
        var (page, user) = await RenderCreateAsync("remember@example.test");
        TypePrompt(page, "a purple circle");
        await page.InvokeAsync(() => page.FindAll("input").Single(i => i.Id == LabelTarget(page, "Steps")).Change("33"));
        ClickGenerate(page);
        await WaitForJobAsync(page, user.Id);

        var again = Render<CreatePage>();
        again.WaitForAssertion(() => Assert.Equal("33", again.FindAll("input").Single(i => i.Id == LabelTarget(again, "Steps")).GetAttribute("value")));
        Assert.Contains("a purple circle", again.FindAll("textarea")[0].GetAttribute("value") ?? again.FindAll("textarea")[0].TextContent, StringComparison.Ordinal);
    }

    private async Task<(IRenderedComponent<CreatePage> Page, AppUser User)> RenderCreateAsync(string email, int maxQueuedPerUser = 20)
    {
        AddGenerationServices(maxQueuedPerUser);
        var user = await AddUserAsync(email);
        SignIn(user);
        var page = Render<CreatePage>();
        page.WaitForAssertion(() => page.Find("textarea"));
        return (page, user);
    }

    private static string LabelTarget(IRenderedComponent<CreatePage> page, string label) =>
        page.FindAll("label").First(l => l.TextContent.Trim() == label).GetAttribute("for")!;

    // The page re-renders on its own (a timer, pushed events): find and act in one renderer turn.
    private static void ClickGenerate(IRenderedComponent<CreatePage> page) =>
        page.InvokeAsync(() => page.FindAll("button").Single(b => b.TextContent.Trim() == "Generate").Click()).GetAwaiter().GetResult();

    private static void TypePrompt(IRenderedComponent<CreatePage> page, string text) =>
        page.InvokeAsync(() => page.FindAll("textarea")[0].Input(text)).GetAwaiter().GetResult();

    private async Task<Job> WaitForJobAsync(IRenderedComponent<CreatePage> page, string userId)
    {
        Job? job = null;
        await page.WaitForAssertionAsync(async () =>
        {
            await using var db = CreateDb();
            job = await db.Jobs.Where(j => j.OwnerId == userId).OrderByDescending(j => j.CreatedAt).FirstOrDefaultAsync();
            Assert.NotNull(job);
        });
        return job!;
    }

    private void SignIn(AppUser user)
    {
        var auth = AddAuthorization();
        auth.SetAuthorized(user.Email!);
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, user.Id));
        UseRealResourceChecks();
    }
}
