using System.Net;
using System.Text.RegularExpressions;

namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>Drives the static account forms over HTTP the way a browser posts them.</summary>
public static partial class TestAccounts
{
    /// <summary>A password that satisfies the app's rules.</summary>
    public const string Password = "Correct-horse-9";

    /// <summary>GETs <paramref name="path"/> and posts its form named <paramref name="formName"/> with the antiforgery token.</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string path, string formName, IDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(fields);
        var page = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        var token = AntiforgeryToken().Match(html);
        Assert.True(token.Success, $"No antiforgery token on {path}");
        var form = new Dictionary<string, string>(fields)
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups[1].Value),
            ["_handler"] = formName,
        };
        using var content = new FormUrlEncodedContent(form);
        return await client.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    /// <summary>Posts the sign-in form.</summary>
    public static Task<HttpResponseMessage> SignInAsync(HttpClient client, string email, string password) =>
        PostFormAsync(client, "/Account/Login", "login", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = password });

    /// <summary>Posts the register form.</summary>
    public static Task<HttpResponseMessage> RegisterAsync(HttpClient client, string email, string password = Password) =>
        PostFormAsync(client, "/Account/Register", "register", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = password });

    /// <summary>Posts the register form to <c>/Account/Register</c> with <paramref name="query"/> (e.g. <c>?invite=…</c>).</summary>
    public static Task<HttpResponseMessage> RegisterWithQueryAsync(HttpClient client, string query, string email, string password = Password) =>
        PostFormAsync(client, "/Account/Register" + query, "register", new Dictionary<string, string> { ["Input.Email"] = email, ["Input.Password"] = password });

    /// <summary>
    /// Posts a form named <paramref name="formName"/> to <paramref name="path"/> with an antiforgery token taken from
    /// the sign-in page: for a page that shows no form (registration closed), as a hand-made post would.
    /// </summary>
    public static async Task<HttpResponseMessage> PostWithoutFormAsync(HttpClient client, string path, string formName, IDictionary<string, string> fields)
    {
        ArgumentNullException.ThrowIfNull(client);
        var login = await (await client.GetAsync(new Uri("/Account/Login", UriKind.Relative))).Content.ReadAsStringAsync();
        var form = new Dictionary<string, string>(fields)
        {
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(AntiforgeryToken().Match(login).Groups[1].Value),
            ["_handler"] = formName,
        };
        using var content = new FormUrlEncodedContent(form);
        return await client.PostAsync(new Uri(path, UriKind.Relative), content);
    }

    /// <summary>The texts of the page's status banners (errors and notices), in order.</summary>
    public static IReadOnlyList<string> Banners(string html) =>
        Banner().Matches(html).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value.Trim())).ToList();

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    [GeneratedRegex("<div class=\"studio-banner [^\"]*\" role=\"(?:alert|status)\">(.*?)</div>", RegexOptions.Singleline)]
    private static partial Regex Banner();
}
