using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace T2IStudio.Web.Api;

/// <summary>
/// The OpenAPI document of both APIs (<c>/openapi/v1.json</c>) and its registration. Only <c>/api/v1</c> and
/// <c>/sdapi/v1</c> operations are in it; every one of them requires the bearer token. The document itself is read by
/// a signed-in person (cookie) or a token; anyone else is challenged the way their request asks for: a request without
/// a bearer goes to sign-in (302), a wrong bearer gets 401.
/// </summary>
public static class ApiDocuments
{
    /// <summary>The document's name (in its URL and as the key of its provider).</summary>
    public const string DocumentName = "v1";

    /// <summary>The document's URL.</summary>
    public const string DocumentUrl = "/openapi/" + DocumentName + ".json";

    /// <summary>The title in the document.</summary>
    public const string Title = "T2I Studio API";

    /// <summary>The security scheme's name in the document.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>The policy of the document's route: a signed-in person or a token.</summary>
    public const string ReaderPolicy = "ApiDocumentReader";

    /// <summary>The authentication scheme of <see cref="ReaderPolicy"/>: the token when one is presented, else the cookie.</summary>
    public const string ReaderScheme = "ApiDocumentReader";

    /// <summary>The tags operations are grouped by, in the order the reference shows them.</summary>
    public static IReadOnlyList<(string Name, string Description)> Tags { get; } =
    [
        ("Jobs", "Submit text-to-image, img2img and inpaint jobs; follow, list and cancel them; the models."),
        ("Images", "Your images and those of galleries you see: list, search, PNG, thumbnail, favourite, delete."),
        ("Galleries", "Galleries you see and their items; add and remove by your role."),
        ("Prompts", "Your prompt history."),
        ("Account", "Who the token acts as."),
        ("AUTOMATIC1111", "The AUTOMATIC1111-compatible API that existing tools speak (snake_case, base64 images)."),
    ];

    /// <summary>Registers the OpenAPI document generator and the reader policy of its route.</summary>
    public static IServiceCollection AddApiDocuments(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description => IsApiPath(description.RelativePath);
            options.AddDocumentTransformer((document, context, _) =>
            {
                Describe(document);
                return Task.CompletedTask;
            });
        });
        services.AddAuthentication().AddPolicyScheme(ReaderScheme, "Cookie or API token", options =>
            options.ForwardDefaultSelector = context => ApiTokenAuthenticationHandler.PresentedToken(context.Request) is not null
                ? ApiTokenClaims.Scheme
                : IdentityConstants.ApplicationScheme);
        services.AddAuthorizationBuilder()
            .AddPolicy(ReaderPolicy, policy => policy.AddAuthenticationSchemes(ReaderScheme).RequireAuthenticatedUser());
        return services;
    }

    /// <summary>Maps <c>/openapi/v1.json</c>.</summary>
    public static IEndpointRouteBuilder MapApiDocuments(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi("/openapi/{documentName}.json").RequireAuthorization(ReaderPolicy);
        return app;
    }

    /// <summary>The document as the server generates it (for the reference page, without an HTTP round trip).</summary>
    public static Task<OpenApiDocument> GetDocumentAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var provider = services.GetKeyedService<IOpenApiDocumentProvider>(DocumentName) ?? services.GetRequiredService<IOpenApiDocumentProvider>();
        return provider.GetOpenApiDocumentAsync(cancellationToken);
    }

    /// <summary>Whether a route (relative, as API descriptions give it, or absolute) belongs to one of the APIs.</summary>
    public static bool IsApiPath(string? path)
    {
        var trimmed = (path ?? "").TrimStart('/');
        return trimmed.StartsWith(ApiEndpoints.V1Prefix[1..] + "/", StringComparison.OrdinalIgnoreCase)
            || trimmed.StartsWith(ApiEndpoints.A1111Prefix[1..] + "/", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The tag of an operation that has none of <see cref="Tags"/>, from its path.</summary>
    public static string TagOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.StartsWith(ApiEndpoints.A1111Prefix, StringComparison.OrdinalIgnoreCase))
        {
            return "AUTOMATIC1111";
        }
        var segment = path[ApiEndpoints.V1Prefix.Length..].Trim('/').Split('/')[0];
        return segment switch
        {
            "jobs" or "models" => "Jobs",
            "images" => "Images",
            "galleries" => "Galleries",
            "prompts" => "Prompts",
            _ => "Account",
        };
    }

    private static void Describe(OpenApiDocument document)
    {
        document.Info = new OpenApiInfo
        {
            Title = Title,
            Version = DocumentName,
            Description = "T2I Studio's own API (/api/v1, camelCase JSON) and the AUTOMATIC1111-compatible API (/sdapi/v1). "
                + "Every request sends a personal access token, made on Account → API tokens: Authorization: Bearer t2i_…. "
                + "A Read token reads; a Read and generate token also submits, cancels and changes. Errors are RFC 9457 problem "
                + "details naming the field; someone else's id answers 404. Jobs go through the same queue, quotas and gallery as the UI.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            BearerFormat = "t2i_…",
            Description = "A personal access token from Account → API tokens.",
        };

        // An operation whose endpoint names no tag of ours (the default is the application's name) gets the tag of its path.
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, item) in document.Paths)
        {
            foreach (var operation in item.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
                var names = operation.Tags?.Select(t => t.Reference?.Id ?? t.Name ?? "").Where(IsKnownTag).ToList() ?? [];
                if (names.Count == 0)
                {
                    names = [TagOf(path)];
                }
                operation.Tags = new HashSet<OpenApiTagReference>(names.Select(n => new OpenApiTagReference(n, document)));
                used.UnionWith(names);
            }
        }
        document.Tags = new HashSet<OpenApiTag>(Tags.Where(t => used.Contains(t.Name)).Select(t => new OpenApiTag { Name = t.Name, Description = t.Description }));
    }

    private static bool IsKnownTag(string name) => Tags.Any(t => t.Name == name);
}
