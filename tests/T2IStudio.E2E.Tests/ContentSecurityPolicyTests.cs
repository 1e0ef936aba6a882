using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Every page of the app under its real Content-Security-Policy in Chromium, with its JavaScript exercised (the
/// lightbox, a generation, the mask editor): the console shows no CSP violation and no error at all.
/// </summary>
public sealed class ContentSecurityPolicyTests(StudioServer server) : IClassFixture<StudioServer>
{
    // Reported from inside the page as well as by Chromium's own "Refused to …" console messages.
    private const string ViolationListener = """
        document.addEventListener('securitypolicyviolation', e =>
            console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`));
        """;

    [Fact]
    public async Task Every_page_works_under_the_policy_with_no_violation_and_no_console_error()
    {
        var page = await server.NewPageAsync();
        var problems = new List<string>();
        await page.Context.AddInitScriptAsync(ViolationListener);
        page.Console += (_, message) =>
        {
            // The one expected error: the not-found page is served with status 404 on purpose.
            var expected404 = message.Text.Contains("status of 404", StringComparison.Ordinal) && message.Location.Contains("/no-such-page", StringComparison.Ordinal);
            if (message.Type == "error" && !expected404)
            {
                lock (problems)
                {
                    problems.Add($"{page.Url} console error: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (problems)
            {
                problems.Add($"{page.Url} uncaught: {error}");
            }
        };

        // Anonymous pages: the policy header is there and names a nonce.
        var login = await page.GotoAsync("/Account/Login");
        var policy = await login!.HeaderValueAsync("content-security-policy");
        Assert.NotNull(policy);
        Assert.Matches("script-src 'self' 'nonce-[^']+'", policy);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Register", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create your account" })).ToBeVisibleAsync();

        // The first account is the admin, so every page is open to it. Create: generate one small image.
        await StudioPages.RegisterAsync(page, "csp@example.test");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Create", Level = 1 })).ToBeVisibleAsync();
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a yellow dot");
        var steps = page.GetByLabel("Steps", new() { Exact = true });
        await steps.FillAsync("4");
        await steps.PressAsync("Tab");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        var job = page.GetByRole(AriaRole.Listitem, new() { Name = "Job: a yellow dot" });
        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done"), new() { Timeout = 120_000 });

        // Gallery and its lightbox.
        await page.GetByRole(AriaRole.Link, new() { Name = "Gallery", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Open image: a yellow dot" }).ClickAsync();
        var viewer = page.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" });
        await Assertions.Expect(viewer.GetByText("No comments yet.")).ToBeVisibleAsync();

        // Inpaint: the mask editor loads the image into its canvas and takes a stroke.
        await viewer.GetByRole(AriaRole.Link, new() { Name = "Inpaint" }).ClickAsync();
        var canvas = page.GetByLabel("Mask canvas");
        await Assertions.Expect(canvas).ToHaveAttributeAsync("data-ready", "true");
        var box = (await canvas.BoundingBoxAsync())!;
        await page.Mouse.MoveAsync(box.X + box.Width * 0.3f, box.Y + box.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(box.X + box.Width * 0.7f, box.Y + box.Height / 2, new() { Steps = 6 });
        await page.Mouse.UpAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Undo" })).ToBeEnabledAsync();

        // Teams, and a team's own page.
        await page.GetByRole(AriaRole.Link, new() { Name = "Teams", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await page.GetByLabel("Team name").FillAsync("Policy crew");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Policy crew", Level = 1 })).ToBeVisibleAsync();

        // Admin.
        await page.GetByRole(AriaRole.Link, new() { Name = "Admin", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Cell, new() { Name = "csp@example.test", Exact = true })).ToBeVisibleAsync();

        // Full loads of every page (each with its own nonce), the static account pages and the error pages.
        foreach (var (path, heading) in new[]
        {
            ("/", "Create"),
            ("/gallery", "Gallery"),
            ("/inpaint", "Inpaint"),
            ("/teams", "Teams"),
            ("/styles", "Styles"),
            ("/admin", "Admin"),
            ("/admin/workers", "Connected"),
            ("/Account/Manage", "Your account"),
            ("/Account/Manage/ChangePassword", "Change password"),
            ("/Account/Manage/TwoFactor", "Two-factor authentication"),
            ("/Account/AccessDenied", "You don't have access to this page"),
            ("/no-such-page", "There is nothing here"),
        })
        {
            await page.GotoAsync(path);
            await Assertions.Expect(page.GetByText(heading, new() { Exact = true }).First).ToBeVisibleAsync();
            if (!path.StartsWith("/Account/", StringComparison.Ordinal))
            {
                await StudioPages.WaitForInteractiveAsync(page);
            }
        }
        await Assertions.Expect(page.GetByTestId("storage-usage")).ToHaveCountAsync(0); // (the loop ended on the not-found page)

        // Sign out (a form post from the account menu) and land on the sign-in page again.
        await page.GotoAsync("/");
        await StudioPages.WaitForInteractiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "csp", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByText("You are signed out.")).ToBeVisibleAsync();

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
