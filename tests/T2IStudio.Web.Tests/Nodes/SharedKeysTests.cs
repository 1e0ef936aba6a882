using System.Net;
using System.Text.RegularExpressions;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Postgres;

namespace T2IStudio.Web.Tests.Nodes;

/// <summary>Two web nodes on one PostgreSQL database share their data-protection keys through it.</summary>
public sealed partial class SharedKeysTests
{
    [Fact]
    public async Task A_cookie_and_a_form_token_from_node_1_are_good_on_node_2()
    {
        await using var node1 = await PostgresAppFactory.StartAsync();
        await using var node2 = node1.AnotherNode();
        var user = await node1.CreateUserAsync("keys@example.test");
        using var client1 = node1.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        using var client2 = node2.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        var jar = new Dictionary<string, string>(StringComparer.Ordinal);

        // Node 1 serves the sign-in form (its antiforgery cookie and token); node 2 takes the post.
        using var form = await Send(client1, HttpMethod.Get, "/Account/Login", jar);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        var token = WebUtility.HtmlDecode(AntiforgeryToken().Match(await form.Content.ReadAsStringAsync()).Groups[1].Value);
        Assert.NotEmpty(token);
        using var signIn = await Send(client2, HttpMethod.Post, "/Account/Login", jar, new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["_handler"] = "login",
            ["Input.Email"] = user.Email!,
            ["Input.Password"] = TestAccounts.Password,
        });
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.DoesNotContain("/Account/Login", signIn.Headers.Location?.OriginalString ?? "", StringComparison.Ordinal);

        // The cookie node 2 issued signs in on node 1, and one node 1 issues signs in on node 2.
        using var onNode1 = await Send(client1, HttpMethod.Get, "/", jar);
        Assert.Equal(HttpStatusCode.OK, onNode1.StatusCode);
        jar.Clear();
        using var form1 = await Send(client1, HttpMethod.Get, "/Account/Login", jar);
        var token1 = WebUtility.HtmlDecode(AntiforgeryToken().Match(await form1.Content.ReadAsStringAsync()).Groups[1].Value);
        using var signIn1 = await Send(client1, HttpMethod.Post, "/Account/Login", jar, new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token1,
            ["_handler"] = "login",
            ["Input.Email"] = user.Email!,
            ["Input.Password"] = TestAccounts.Password,
        });
        Assert.Equal(HttpStatusCode.Redirect, signIn1.StatusCode);
        using var onNode2 = await Send(client2, HttpMethod.Get, "/", jar);
        Assert.Equal(HttpStatusCode.OK, onNode2.StatusCode);

        // Without the cookie node 2 sends to sign-in: the 200 above is the cookie's doing.
        using var anonymous = await client2.GetAsync(new Uri("/", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Redirect, anonymous.StatusCode);
    }

    /// <summary>Sends a request with the jar's cookies and keeps the ones the answer sets.</summary>
    private static async Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, Dictionary<string, string> jar, IDictionary<string, string>? form = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        if (jar.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", jar.Select(c => $"{c.Key}={c.Value}")));
        }
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }
        var response = await client.SendAsync(request);
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = header.Split(';', 2)[0];
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var (name, value) = (pair[..equals], pair[(equals + 1)..]);
            if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
            {
                jar.Remove(name);
            }
            else
            {
                jar[name] = value;
            }
        }
        return response;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
