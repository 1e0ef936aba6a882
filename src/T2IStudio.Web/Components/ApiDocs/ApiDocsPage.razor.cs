using Microsoft.AspNetCore.Components;
using MudBlazor;
using T2IStudio.Web.Api;

namespace T2IStudio.Web.Components.ApiDocs;

/// <summary>
/// The browsable reference of <c>/openapi/v1.json</c> for signed-in people: operations grouped by tag, each with its
/// method, path, summary, parameters and schemas, after a short note on authenticating with a token.
/// </summary>
public sealed partial class ApiDocsPage
{
    private IReadOnlyList<ApiTagView>? _tags;
    private string? _error;

    [Inject] private IServiceProvider Services { get; set; } = default!;

    [Inject] private NavigationManager Navigation { get; set; } = default!;

    /// <inheritdoc />
    protected override async Task OnInitializedAsync()
    {
        try
        {
            _tags = ApiReference.From(await ApiDocuments.GetDocumentAsync(Services));
        }
        catch (InvalidOperationException ex)
        {
            _error = "The API document could not be generated: " + ex.Message;
        }
    }

    /// <summary>Prose from the document with its <c>`code`</c> spans shown as code, the way the summaries are written.</summary>
    internal static RenderFragment Prose(string? text) => builder =>
    {
        var parts = (text ?? "").Split('`');
        for (var i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1 && i < parts.Length - 1)
            {
                builder.OpenElement(0, "code");
                builder.AddContent(1, parts[i]);
                builder.CloseElement();
            }
            else
            {
                // An unmatched last backtick stays as it was written.
                builder.AddContent(2, i % 2 == 1 ? "`" + parts[i] : parts[i]);
            }
        }
    };

    private static Color MethodColor(string method) => method switch
    {
        "GET" => Color.Info,
        "POST" => Color.Success,
        "PUT" or "PATCH" => Color.Warning,
        "DELETE" => Color.Error,
        _ => Color.Default,
    };
}
