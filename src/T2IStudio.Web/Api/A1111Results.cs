using System.Reflection;
using Microsoft.AspNetCore.Http.Metadata;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Storage;

namespace T2IStudio.Web.Api;

/// <summary>
/// A1111's answer with images (<typeparamref name="TResponse"/>'s shape in the API document): written by
/// <see cref="A1111Jobs.WriteImagesAsync"/> one PNG at a time, so the images are never all held as base64 strings.
/// </summary>
/// <typeparam name="TResponse">The response record the API document shows.</typeparam>
/// <typeparam name="TParameters">The echoed request.</typeparam>
public sealed class A1111ImagesResult<TResponse, TParameters> : IResult, IStatusCodeHttpResult, IEndpointMetadataProvider
{
    private readonly ImageStore _store;
    private readonly IReadOnlyList<GeneratedImage> _images;
    private readonly TParameters _parameters;
    private readonly string _info;

    /// <summary>An answer with <paramref name="images"/> (read from <paramref name="store"/> as it is written), the echo and the info string.</summary>
    public A1111ImagesResult(ImageStore store, IReadOnlyList<GeneratedImage> images, TParameters parameters, string info)
    {
        _store = store;
        _images = images;
        _parameters = parameters;
        _info = info;
    }

    /// <summary>The images the answer holds.</summary>
    public IReadOnlyList<GeneratedImage> Images => _images;

    /// <inheritdoc />
    public int? StatusCode => StatusCodes.Status200OK;

    /// <inheritdoc />
    public Task ExecuteAsync(HttpContext httpContext) => A1111Jobs.WriteImagesAsync(httpContext, _store, _images, _parameters, _info);

    /// <inheritdoc />
#pragma warning disable CA1000 // IEndpointMetadataProvider's member is static by design (as ASP.NET Core's own Ok<T>).
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TResponse), ["application/json"]));
    }
#pragma warning restore CA1000
}
