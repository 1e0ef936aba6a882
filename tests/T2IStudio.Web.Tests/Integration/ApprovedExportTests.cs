using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Galleries;
using T2IStudio.Web.Images;
using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Integration;

/// <summary>"Download approved": exactly the approved images, byte for byte, with a CSV of their parameters; 404 for anyone who cannot see the gallery.</summary>
public partial class ApprovedExportTests
{
    /// <summary>The app under test, as <c>NewApp(storageRoot, settings)</c>; a derived class runs the same tests on another engine.</summary>
    protected virtual StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => new(storageRoot, settings);

    [Fact]
    public async Task The_zip_holds_exactly_the_approved_images_as_stored_and_a_csv_row_of_parameters_for_each()
    {
        using var app = NewApp();
        var team = await ReviewTests.TeamAsync(app, "x1");
        using var scope = app.Services.CreateScope();
        var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
        var library = scope.ServiceProvider.GetRequiredService<ImageLibrary>();
        // A prompt that a spreadsheet would run as a formula, with a comma and quotes for the CSV's quoting.
        const string risky = "=HYPERLINK(\"http://evil.test\"), a \"red\" fox";
        var first = (await app.GenerateAsync(team.Editor, GenerationQueueTests.Request(prompt: risky, steps: 2, seed: 7))).ImageIds.Single();
        var (_, batch) = await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "a calm lake at dawn", steps: 3, batch: 2, seed: 1234) with { GalleryId = team.GalleryId });
        using (var add = app.Services.CreateScope())
        {
            Assert.True((await add.ServiceProvider.GetRequiredService<GalleryService>().AddAsync(team.EditorP, team.GalleryId, first)).Succeeded);
        }
        var rejected = (await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "not this one", steps: 2) with { GalleryId = team.GalleryId })).ImageIds.Single();
        Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
        Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, first, ReviewState.Approved)).Succeeded);
        Assert.True((await reviews.SetStateAsync(team.EditorP, team.GalleryId, batch[1], ReviewState.Approved)).Succeeded);
        Assert.True((await reviews.SetStateAsync(team.EditorP, team.GalleryId, rejected, ReviewState.ChangesRequested)).Succeeded);
        // batch[0] stays Needs review.

        using var viewer = await SignedInAsync(app, team.Viewer);
        using var response = await viewer.GetAsync($"/galleries/{team.GalleryId}/approved.zip");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["nosniff"], response.Headers.GetValues("X-Content-Type-Options"));
        var disposition = response.Content.Headers.ContentDisposition!;
        Assert.Equal("attachment", disposition.DispositionType);
        Assert.Equal("Client X - approved.zip", disposition.FileNameStar ?? disposition.FileName?.Trim('"'));

        using var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), ZipArchiveMode.Read);
        var pngs = zip.Entries.Where(e => e.FullName != ApprovedExport.ParametersFile).Select(e => e.FullName).ToList();
        Assert.Equal(2, pngs.Count);
        Assert.All(pngs, name => Assert.Matches(EntryName(), name));
        Assert.Equal(zip.Entries.Count, pngs.Count + 1);

        var rows = ParseCsv(await ReadTextAsync(zip.GetEntry(ApprovedExport.ParametersFile)!));
        Assert.Equal(["file", "image_id", "prompt", "negative_prompt", "style", "model", "model_hash", "seed", "steps", "sampler", "cfg_scale", "width", "height", "approved_by", "approved_at"], rows[0]);
        var byImage = rows.Skip(1).ToDictionary(r => Guid.Parse(r[1]));
        Assert.Equal(new[] { first, batch[1] }.Order(), byImage.Keys.Order());
        Assert.Equal(pngs.Order(), byImage.Values.Select(r => r[0]).Order());

        foreach (var (imageId, row) in byImage)
        {
            // The PNG is the stored file, byte for byte: what the image's own download gives.
            var entry = zip.GetEntry(row[0])!;
            await using var entryStream = await entry.OpenAsync();
            using var copy = new MemoryStream();
            await entryStream.CopyToAsync(copy);
            Assert.Equal(await viewer.GetByteArrayAsync($"/images/{imageId}?download=true"), copy.ToArray());

            var image = (await library.GetAsync(team.OwnerP, imageId))!;
            var (prompt, steps, approver) = imageId == first ? ("'" + risky, "2", "Olga") : ("a calm lake at dawn", "3", "Ed");
            Assert.Equal(prompt, row[2]);
            Assert.Equal(["", "", image.Model, image.ModelHash ?? "", image.Seed.ToString(CultureInfo.InvariantCulture), steps, "DDIM", "4", "64", "64", approver],
                row[3..14]);
            Assert.Equal(image.Seed, ulong.Parse(Regex.Match(row[0], @"-(\d+)\.png$").Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.True(DateTimeOffset.TryParse(row[14], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _), row[14]);
        }
    }

    [Fact]
    public async Task Only_people_who_see_the_gallery_get_the_zip_others_get_404_and_nothing_approved_gives_just_the_header()
    {
        using var app = NewApp();
        var team = await ReviewTests.TeamAsync(app, "x2");
        Guid privateGallery;
        using (var scope = app.Services.CreateScope())
        {
            privateGallery = (await scope.ServiceProvider.GetRequiredService<GalleryService>().CreateAsync(team.OwnerP, "Mine", null)).Id!.Value;
        }
        using var owner = await SignedInAsync(app, team.Owner);
        using var outsider = await SignedInAsync(app, team.Outsider);
        using var anonymous = app.CreateBrowserlikeClient();

        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/galleries/{team.GalleryId}/approved.zip")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await outsider.GetAsync($"/galleries/{privateGallery}/approved.zip")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/galleries/{Guid.NewGuid()}/approved.zip")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await anonymous.GetAsync($"/galleries/{team.GalleryId}/approved.zip")).StatusCode);

        using var empty = await owner.GetAsync($"/galleries/{team.GalleryId}/approved.zip");
        Assert.Equal(HttpStatusCode.OK, empty.StatusCode);
        using var zip = new ZipArchive(await empty.Content.ReadAsStreamAsync(), ZipArchiveMode.Read);
        var entry = Assert.Single(zip.Entries);
        Assert.Equal(ApprovedExport.ParametersFile, entry.FullName);
        Assert.Single(ParseCsv(await ReadTextAsync(entry)));
    }

    [Fact]
    public async Task A_gallery_with_more_approved_images_than_the_cap_is_refused_with_the_count_and_the_setting_to_raise()
    {
        using var app = NewApp(settings: new Dictionary<string, string?> { ["Galleries:MaxApprovedExportImages"] = "1" });
        var team = await ReviewTests.TeamAsync(app, "x3");
        using (var scope = app.Services.CreateScope())
        {
            var reviews = scope.ServiceProvider.GetRequiredService<ReviewService>();
            var (_, images) = await app.GenerateAsync(team.Owner, GenerationQueueTests.Request(prompt: "two takes", steps: 2, batch: 2) with { GalleryId = team.GalleryId });
            Assert.True((await reviews.SetReviewRequiredAsync(team.OwnerP, team.GalleryId, true)).Succeeded);
            Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, images[0], ReviewState.Approved)).Succeeded);
            using var viewerOfOne = await SignedInAsync(app, team.Viewer);
            Assert.Equal(HttpStatusCode.OK, (await viewerOfOne.GetAsync($"/galleries/{team.GalleryId}/approved.zip")).StatusCode);
            Assert.True((await reviews.SetStateAsync(team.OwnerP, team.GalleryId, images[1], ReviewState.Approved)).Succeeded);
        }

        using var viewer = await SignedInAsync(app, team.Viewer);
        using var response = await viewer.GetAsync($"/galleries/{team.GalleryId}/approved.zip");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.StartsWith("This gallery has 2 approved images; the export takes at most 1.", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Galleries:MaxApprovedExportImages", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_export_cap_below_one_stops_the_app_with_a_message_naming_the_key()
    {
        using var app = new StudioAppFactory(settings: new Dictionary<string, string?> { ["Galleries:MaxApprovedExportImages"] = "0" });
        var error = Assert.ThrowsAny<Exception>(() => app.CreateClient());
        var messages = new List<string>();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            messages.AddRange((e as AggregateException)?.InnerExceptions.Select(i => i.Message) ?? []);
        }
        Assert.Contains(messages, m => m.Contains("Galleries:MaxApprovedExportImages", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_second_export_while_the_persons_own_or_two_others_run_is_refused_with_retry_after()
    {
        using var app = NewApp();
        var team = await ReviewTests.TeamAsync(app, "x4");
        var gate = app.Services.GetRequiredService<ApprovedExportGate>();
        using var viewer = await SignedInAsync(app, team.Viewer);
        var url = $"/galleries/{team.GalleryId}/approved.zip";

        // The viewer's own export is still running: theirs waits, someone else's goes ahead.
        using (var running = gate.TryEnter(team.Viewer.Id))
        {
            Assert.NotNull(running);
            using var refused = await viewer.GetAsync(url);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(ApprovedExport.RetryAfterSeconds), refused.Headers.RetryAfter?.Delta);
            var problem = System.Text.Json.JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement;
            Assert.Contains("already being prepared", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            using var owner = await SignedInAsync(app, team.Owner);
            Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync(url)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(url)).StatusCode);

        // Two exports by others fill the server (each download gives its slot back once the response has completed).
        using (var first = await EnterAsync(gate, team.Owner.Id))
        using (var second = await EnterAsync(gate, team.Editor.Id))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, (await viewer.GetAsync(url)).StatusCode);
        }
        using var again1 = await EnterAsync(gate, team.Owner.Id);
        using var again2 = await EnterAsync(gate, team.Viewer.Id);
    }

    /// <summary>
    /// A slot once one is free: a finished download gives its slot back when its response completes, which the
    /// client may see a moment before the server has run that step.
    /// </summary>
    private static async Task<IDisposable> EnterAsync(ApprovedExportGate gate, string userId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (gate.TryEnter(userId) is { } slot)
            {
                return slot;
            }
            await Task.Delay(10, timeout.Token);
        }
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("=1+1", "'=1+1")]
    [InlineData("+SUM(A1)", "'+SUM(A1)")]
    [InlineData("-2", "'-2")]
    [InlineData("@cmd", "'@cmd")]
    [InlineData("\tx", "'\tx")]
    [InlineData("\rx", "\"'\rx\"")]
    [InlineData("a, b", "\"a, b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    public void A_csv_cell_is_quoted_as_rfc_4180_says_and_never_starts_a_formula(string value, string expected) =>
        Assert.Equal(expected, ApprovedExport.CsvCell(value));

    private static async Task<HttpClient> SignedInAsync(StudioAppFactory app, AppUser user)
    {
        var client = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(client, user.Email!, TestAccounts.Password)).StatusCode);
        return client;
    }

    private static async Task<string> ReadTextAsync(ZipArchiveEntry entry)
    {
        await using var stream = await entry.OpenAsync();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return await reader.ReadToEndAsync();
    }

    /// <summary>A strict RFC 4180 reader: CRLF between records, quoted fields with doubled quotes.</summary>
    private static List<string[]> ParseCsv(string text)
    {
        var rows = new List<string[]>();
        var row = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    cell.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    cell.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(cell.ToString());
                cell.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(cell.ToString());
                cell.Clear();
                rows.Add([.. row]);
                row.Clear();
                i++;
            }
            else
            {
                cell.Append(c);
            }
        }
        Assert.False(quoted);
        Assert.Equal(0, cell.Length + row.Count); // every record ends with CRLF
        return rows;
    }

    [GeneratedRegex(@"^\d{4}-[a-z0-9-]+-\d+\.png$")]
    private static partial Regex EntryName();
}
