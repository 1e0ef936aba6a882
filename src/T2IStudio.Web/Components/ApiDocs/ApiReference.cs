using Microsoft.OpenApi;
using T2IStudio.Web.Api;

namespace T2IStudio.Web.Components.ApiDocs;

/// <summary>One parameter of an operation as the reference lists it.</summary>
/// <param name="Name">Its name.</param>
/// <param name="In">path, query or header.</param>
/// <param name="Type">Its schema in a word (<c>string</c>, <c>integer</c>, a schema name).</param>
/// <param name="Required">Whether a request must send it.</param>
public sealed record ApiParameterView(string Name, string In, string Type, bool Required);

/// <summary>One response of an operation: its status and what its body is.</summary>
/// <param name="Status">The status code.</param>
/// <param name="Description">What it means.</param>
/// <param name="Body">Content type and schema, or null without a body.</param>
public sealed record ApiResponseView(string Status, string? Description, string? Body);

/// <summary>One operation as the reference shows it.</summary>
/// <param name="Method">GET, POST, PUT or DELETE.</param>
/// <param name="Path">The path with its parameters in braces.</param>
/// <param name="Summary">What it does.</param>
/// <param name="OperationId">Its name in the document.</param>
/// <param name="Parameters">Its path, query and header parameters.</param>
/// <param name="RequestBody">Content type and schema of its body, or null.</param>
/// <param name="Responses">Its responses by status.</param>
public sealed record ApiOperationView(string Method, string Path, string? Summary, string? OperationId,
    IReadOnlyList<ApiParameterView> Parameters, string? RequestBody, IReadOnlyList<ApiResponseView> Responses);

/// <summary>The operations of one tag.</summary>
/// <param name="Name">The tag.</param>
/// <param name="Description">What the group is about.</param>
/// <param name="Operations">Its operations by path, then method.</param>
public sealed record ApiTagView(string Name, string? Description, IReadOnlyList<ApiOperationView> Operations);

/// <summary>The OpenAPI document reduced to what the reference page renders.</summary>
public static class ApiReference
{
    private static readonly string[] MethodOrder = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    /// <summary>The document's operations grouped by tag, in <see cref="ApiDocuments.Tags"/> order.</summary>
    public static IReadOnlyList<ApiTagView> From(OpenApiDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var operations = new List<(string Tag, ApiOperationView View)>();
        foreach (var (path, item) in document.Paths)
        {
            foreach (var (method, operation) in item.Operations ?? [])
            {
                var tag = operation.Tags?.Select(t => t.Reference?.Id ?? t.Name).FirstOrDefault(n => n is not null) ?? ApiDocuments.TagOf(path);
                var parameters = (item.Parameters ?? []).Concat(operation.Parameters ?? [])
                    .Select(p => new ApiParameterView(p.Name ?? "", p.In?.ToString().ToLowerInvariant() ?? "", SchemaName(p.Schema), p.Required))
                    .ToList();
                var body = operation.RequestBody?.Content is { Count: > 0 } content ? Describe(content) : null;
                var responses = (operation.Responses ?? [])
                    .OrderBy(r => r.Key, StringComparer.Ordinal)
                    .Select(r => new ApiResponseView(r.Key, r.Value.Description, r.Value.Content is { Count: > 0 } c ? Describe(c) : null))
                    .ToList();
                operations.Add((tag!, new ApiOperationView(method.Method.ToUpperInvariant(), path, operation.Summary, operation.OperationId, parameters, body, responses)));
            }
        }
        var order = ApiDocuments.Tags.Select(t => t.Name).ToList();
        return [.. operations
            .GroupBy(o => o.Tag)
            .OrderBy(g => order.IndexOf(g.Key) is var i && i >= 0 ? i : int.MaxValue).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ApiTagView(g.Key, ApiDocuments.Tags.FirstOrDefault(t => t.Name == g.Key).Description,
                [.. g.Select(o => o.View).OrderBy(o => o.Path, StringComparer.Ordinal).ThenBy(o => Array.IndexOf(MethodOrder, o.Method))]))];
    }

    /// <summary>A schema in a word: a component's name, <c>Name[]</c> for an array of it, or the JSON type.</summary>
    public static string SchemaName(IOpenApiSchema? schema)
    {
        switch (schema)
        {
            case null:
                return "";
            case OpenApiSchemaReference reference when reference.Reference?.Id is { } id:
                return id;
        }
        if (schema.Type is { } type && type.HasFlag(JsonSchemaType.Array))
        {
            return SchemaName(schema.Items) + "[]";
        }
        // A form (multipart) is an object of its fields, possibly split over allOf: name them.
        var fields = (schema.AllOf ?? []).SelectMany(part => part.Properties?.Keys ?? []).Concat(schema.Properties?.Keys ?? []).Distinct().ToList();
        if (fields.Count > 0 && schema.AllOf is { Count: > 0 })
        {
            return "{ " + string.Join(", ", fields) + " }";
        }
        if (schema.OneOf is { Count: > 0 } oneOf)
        {
            return string.Join(" | ", oneOf.Select(SchemaName).Where(n => n.Length > 0).Distinct());
        }
        var name = schema.Type is { } t ? (t & ~JsonSchemaType.Null).ToString().ToLowerInvariant() : "object";
        return schema.Format is { Length: > 0 } format ? $"{name} ({format})" : name;
    }

    private static string Describe(IDictionary<string, OpenApiMediaType> content) =>
        string.Join("; ", content.Select(c => c.Value.Schema is { } schema ? $"{c.Key}: {SchemaName(schema)}" : c.Key));
}
