using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace T2IStudio.E2E.Tests;

/// <summary>
/// Every page of the app in the light and the dark theme: each renders its heading, and its secondary text
/// (<c>mud-text-secondary</c>) reaches WCAG 2.1 AA contrast (4.5:1) against what is actually behind it, computed
/// in the browser. The screenshots (<c>tour-THEME-PAGE.png</c>) are for people to look at after a UI change.
/// </summary>
public sealed class PageTourTests(StudioServer server) : IClassFixture<StudioServer>
{
    private const double AaContrast = 4.5;

    /// <summary>The colour of each visible secondary text, over the composited background behind it; the worst one wins.</summary>
    private const string WorstSecondaryContrast = """
        () => {
            const parse = c => {
                const m = c.match(/rgba?\(([^)]+)\)/);
                if (!m) return null;
                const p = m[1].split(',').map(s => parseFloat(s));
                return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
            };
            const over = (top, base) => ({ r: top.r * top.a + base.r * (1 - top.a), g: top.g * top.a + base.g * (1 - top.a), b: top.b * top.a + base.b * (1 - top.a), a: 1 });
            const background = el => {
                const layers = [];
                for (let e = el; e; e = e.parentElement) {
                    const c = parse(getComputedStyle(e).backgroundColor);
                    if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
                }
                let base = { r: 255, g: 255, b: 255, a: 1 };
                for (let i = layers.length - 1; i >= 0; i--) base = over(layers[i], base);
                return base;
            };
            const luminance = c => {
                const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
            };
            const css = c => `rgb(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)})`;
            let worst = { ratio: 99, text: '', color: '', background: '', count: 0 };
            for (const el of document.querySelectorAll('.mud-text-secondary')) {
                const text = el.textContent.trim();
                const box = el.getBoundingClientRect();
                if (!text || box.width === 0 || box.height === 0 || getComputedStyle(el).visibility === 'hidden') continue;
                const bg = background(el);
                const fg = over(parse(getComputedStyle(el).color), bg);
                const a = luminance(fg), b = luminance(bg);
                const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                worst.count++;
                if (ratio < worst.ratio) worst = { ratio, text: text.slice(0, 60), color: css(fg), background: css(bg), count: worst.count };
            }
            return worst;
        }
        """;

    [Fact]
    public async Task Every_page_renders_in_both_themes_with_secondary_text_at_AA_contrast()
    {
        var page = await server.NewPageAsync();
        await StudioPages.RegisterAsync(page, "tour@example.test"); // the first account: Admin pages too

        // Something to show: one image, one team, one API token.
        await page.GetByLabel("Prompt", new() { Exact = true }).FillAsync("a tour of the studio");
        await page.GetByRole(AriaRole.Button, new() { Name = "Generate", Exact = true }).ClickAsync();
        var job = page.GetByRole(AriaRole.Listitem, new() { Name = "Job: a tour of the studio" });
        await Assertions.Expect(job.GetByTestId("job-status")).ToHaveTextAsync(new Regex("^Done"), new() { Timeout = 120_000 });
        var thumb = await job.Locator("img").First.GetAttributeAsync("src");
        var imageId = Regex.Match(thumb!, "/images/([0-9a-f-]{36})/thumb").Groups[1].Value;
        await page.GotoAsync("/teams");
        await StudioPages.WaitForInteractiveAsync(page);
        await page.GetByRole(AriaRole.Button, new() { Name = "New team" }).ClickAsync();
        await page.GetByLabel("Team name").FillAsync("Tour crew");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create team" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Tour crew", Level = 1 })).ToBeVisibleAsync();
        var teamPath = new Uri(page.Url).AbsolutePath;
        await page.GotoAsync("/account/api-tokens");
        await StudioPages.WaitForInteractiveAsync(page);
        await ApiTokenPages.CreateAsync(page, "tour", "Read");

        (string Name, string Path, bool Interactive)[] pages =
        [
            ("create", "/", true), ("gallery", "/gallery", true), ("inpaint-choose", "/inpaint", true), ("inpaint", $"/inpaint?image={imageId}", true),
            ("teams", "/teams", true), ("team", teamPath, true), ("admin-users", "/admin", true), ("admin-queue", "/admin/queue", true),
            ("admin-workers", "/admin/workers", true), ("api-tokens", "/account/api-tokens", true), ("api-docs", "/api-docs", true),
            ("account", "/Account/Manage", false), ("not-found", "/no-such-page", false),
        ];
        var problems = new List<string>();
        foreach (var theme in new[] { "light", "dark" })
        {
            if (theme == "dark")
            {
                await page.GotoAsync("/");
                await StudioPages.WaitForInteractiveAsync(page);
                await page.GetByRole(AriaRole.Button, new() { Name = "Toggle dark mode" }).ClickAsync();
                await Assertions.Expect(page.Locator(".mud-layout")).ToHaveAttributeAsync("data-theme", "dark");
            }
            foreach (var (name, path, interactive) in pages)
            {
                await page.GotoAsync(path);
                if (interactive)
                {
                    await StudioPages.WaitForInteractiveAsync(page);
                }
                await Assertions.Expect(page.Locator("h1").First).ToBeVisibleAsync();
                if (name == "account")
                {
                    // The static account pages follow the theme the person chose in the app.
                    await Assertions.Expect(page.Locator(".studio-account-shell")).ToHaveAttributeAsync("data-theme", theme);
                }
                if (name is "create" or "inpaint")
                {
                    // The seed row is shared by both forms (a global rule): the dice sits beside the field, not under it.
                    var field = await page.GetByLabel("Seed", new() { Exact = true }).BoundingBoxAsync();
                    var dice = await page.GetByRole(AriaRole.Button, new() { Name = "Random seed" }).BoundingBoxAsync();
                    Assert.True(dice!.Y < field!.Y + field.Height && dice.X > field.X + field.Width,
                        $"{theme} {name}: the Random seed button is at ({dice.X}, {dice.Y}), not beside the Seed field ending at ({field.X + field.Width}, {field.Y + field.Height})");
                }
                await StudioPages.ScreenshotAsync(page, $"tour-{theme}-{name}");
                Check(await page.EvaluateAsync<JsonElement>(WorstSecondaryContrast), $"{theme} {name}", problems);
            }

            // The lightbox, over the gallery.
            await page.GotoAsync("/gallery");
            await StudioPages.WaitForInteractiveAsync(page);
            await page.GetByRole(AriaRole.Button, new() { Name = "Open image: a tour of the studio" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Dialog, new() { Name = "Image viewer" }).GetByTestId("lightbox-prompt")).ToHaveTextAsync("a tour of the studio");
            await StudioPages.ScreenshotAsync(page, $"tour-{theme}-lightbox");
            Check(await page.EvaluateAsync<JsonElement>(WorstSecondaryContrast), $"{theme} lightbox", problems);
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    private static void Check(JsonElement worst, string where, List<string> problems)
    {
        var ratio = worst.GetProperty("ratio").GetDouble();
        if (ratio < AaContrast)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"{where}: \"{worst.GetProperty("text").GetString()}\" is {worst.GetProperty("color").GetString()} on {worst.GetProperty("background").GetString()}, {ratio:0.00}:1 (AA asks {AaContrast}:1)"));
        }
    }
}
