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

    private static Color MethodColor(string method) => method switch
    {
        "GET" => Color.Info,
        "POST" => Color.Success,
        "PUT" or "PATCH" => Color.Warning,
        "DELETE" => Color.Error,
        _ => Color.Default,
    };
}
