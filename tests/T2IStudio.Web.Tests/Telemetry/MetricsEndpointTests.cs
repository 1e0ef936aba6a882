using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;
using T2IStudio.Web.Realtime;
using T2IStudio.Web.Tests.Infrastructure;
using static T2IStudio.Web.Tests.Integration.GenerationQueueTests;

namespace T2IStudio.Web.Tests.Telemetry;

/// <summary>
/// <c>/metrics</c>: 404 when <c>Telemetry:Prometheus</c> is off; when on, Prometheus' text for admins (cookie or API
/// token) and the same 404 for everyone else; the studio's series appear with their labels once jobs ran or ended.
/// </summary>
[Collection(MetricsScrapesRunAlone.Name)]
public sealed partial class MetricsEndpointTests
{
    private const string Admin = "metrics-admin@example.test";
    private const string Member = "metrics-member@example.test";

    [Fact]
    public async Task Off_by_default_metrics_is_404_even_for_an_admin_token_and_for_a_signed_out_visitor()
    {
        using var app = new MetricsAppFactory( new Dictionary<string, string?> { ["Queue:RunWorker"] = "false" });
        var admin = await app.CreateUserAsync(Admin);
        await app.MakeAdminAsync(admin);
        using var adminClient = app.CreateApiClient(await app.CreateTokenAsync(admin));
        using var anonymous = app.CreateBrowserlikeClient();

        Assert.Equal(HttpStatusCode.NotFound, (await adminClient.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task On_anonymous_members_and_bad_tokens_get_404_and_an_admin_by_cookie_or_token_gets_the_t2i_series_as_text()
    {
        using var app = new MetricsAppFactory( new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Telemetry:Prometheus"] = "true" });
        var admin = await app.CreateUserAsync(Admin);
        await app.MakeAdminAsync(admin);
        var member = await app.CreateUserAsync(Member);
        using var anonymous = app.CreateBrowserlikeClient();
        using var memberToken = app.CreateApiClient(await app.CreateTokenAsync(member));
        using var badToken = app.CreateApiClient("t2i_not-a-real-token");
        using var memberCookie = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(memberCookie, Member, TestAccounts.Password)).StatusCode);
        using var adminCookie = app.CreateBrowserlikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await TestAccounts.SignInAsync(adminCookie, Admin, TestAccounts.Password)).StatusCode);
        using var adminToken = app.CreateApiClient(await app.CreateTokenAsync(admin, ApiTokenScope.Read));

        foreach (var refused in new[] { anonymous, memberToken, badToken, memberCookie })
        {
            var answer = await refused.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.DoesNotContain("t2i_", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        foreach (var allowed in new[] { adminCookie, adminToken })
        {
            var answer = await allowed.GetAsync(new Uri("/metrics", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            Assert.Equal("text/plain", answer.Content.Headers.ContentType?.MediaType);
            var text = await answer.Content.ReadAsStringAsync();
            // Observable gauges answer from the first scrape; ASP.NET Core's own meters are there beside them.
            Assert.Contains("# TYPE t2i_workers_connected gauge", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE t2i_images_rate", text, StringComparison.Ordinal);
            Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task After_a_job_on_the_embedded_model_the_duration_images_and_seconds_per_step_series_carry_its_model_and_size()
    {
        using var app = new MetricsAppFactory( new Dictionary<string, string?> { ["Telemetry:Prometheus"] = "true" });
        var admin = await app.CreateUserAsync(Admin);
        await app.MakeAdminAsync(admin);
        using var client = app.CreateApiClient(await app.CreateTokenAsync(admin));

        var (_, images) = await app.GenerateAsync(admin, Request(steps: 4, size: 64, batch: 2));
        var text = await (await client.GetAsync(new Uri("/metrics", UriKind.Relative))).Content.ReadAsStringAsync();

        Assert.Equal(2, images.Count);
        Assert.Equal(1, Value(text, "t2i_job_duration_seconds_count", "model=\"t2istudio-tiny\""));
        Assert.Equal(2, Value(text, "t2i_images_completed_total", "model=\"t2istudio-tiny\""));
        Assert.Equal(1, Value(text, "t2i_step_duration_seconds_count", "model=\"t2istudio-tiny\"", "size=\"64x64\""));
        Assert.Equal(1, Value(text, "t2i_job_wait_seconds_count", "model=\"t2istudio-tiny\""));
        Assert.True(Value(text, "t2i_job_duration_seconds_sum", "model=\"t2istudio-tiny\"") > 0);
    }

    [Fact]
    public async Task Cancelling_a_waiting_job_counts_one_failure_with_reason_canceled()
    {
        using var app = new MetricsAppFactory( new Dictionary<string, string?> { ["Queue:RunWorker"] = "false", ["Telemetry:Prometheus"] = "true" });
        var admin = await app.CreateUserAsync(Admin);
        await app.MakeAdminAsync(admin);
        using var client = app.CreateApiClient(await app.CreateTokenAsync(admin));
        using var scope = app.Services.CreateScope();
        var service = scope.ServiceProvider.GetRequiredService<GenerationService>();
        var principal = StudioAppFactory.PrincipalOf(admin);
        var job = (await service.SubmitAsync(principal, Request())).JobId!.Value;
        var before = Value(await ScrapeAsync(client), "t2i_job_failures_total", "reason=\"canceled\"");

        Assert.Equal(CancelOutcome.Canceled, await app.Services.GetRequiredService<JobLifecycle>().CancelAsync(job));
        var after = await ScrapeAsync(client);

        Assert.Equal(before + 1, Value(after, "t2i_job_failures_total", "reason=\"canceled\""));
        Assert.DoesNotContain("reason=\"Canceled\"", after, StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        var answer = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        return await answer.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the series <paramref name="name"/> whose labels include all of <paramref name="labels"/>; 0 when there is none.</summary>
    private static double Value(string text, string name, params string[] labels)
    {
        foreach (Match line in SeriesLine().Matches(text))
        {
            if (line.Groups["name"].Value == name && labels.All(l => line.Groups["labels"].Value.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(line.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    /// <summary>
    /// The app with its settings also given as host settings, so the registration code (which reads
    /// <c>Telemetry:Prometheus</c> from the builder's configuration before the app is built) sees them.
    /// </summary>
    private sealed class MetricsAppFactory(IDictionary<string, string?> settings) : StudioAppFactory(settings: settings)
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            foreach (var (key, value) in Settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex SeriesLine();
}

/// <summary>
/// Scrapes run one at a time: a meter provider listens to every meter named "T2IStudio" in the process, so another
/// test's host (or its disposal, which drops that host's streams) would move the counts one scrape reads.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetricsScrapesRunAlone
{
    /// <summary>The collection's name.</summary>
    public const string Name = "metrics scrapes";
}
