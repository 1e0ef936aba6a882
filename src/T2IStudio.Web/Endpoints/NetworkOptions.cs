using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace T2IStudio.Web.Endpoints;

/// <summary>Where requests come from (section <c>Network</c>).</summary>
public sealed record NetworkOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Network";

    /// <summary>
    /// IP addresses of reverse proxies (a TLS terminator) whose <c>X-Forwarded-For</c> and
    /// <c>X-Forwarded-Proto</c> are believed. Empty (the default): no proxy is trusted and those headers are ignored.
    /// </summary>
    public IReadOnlyList<string> KnownProxies { get; init; } = [];

    /// <summary>
    /// The address people reach the app at (e.g. <c>https://studio.example.com</c>), used for the links in emails. Never taken from a request's Host header, which a sender controls. Needed when email is on.
    /// </summary>
    public string? PublicBaseUrl { get; init; }

    /// <summary><see cref="PublicBaseUrl"/> as an absolute address ending in '/', or null when it is not set.</summary>
    public Uri? PublicBase => string.IsNullOrWhiteSpace(PublicBaseUrl) ? null : new Uri(PublicBaseUrl.TrimEnd('/') + "/", UriKind.Absolute);

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(PublicBaseUrl)
            && (!Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var publicBase) || publicBase.Scheme is not ("https" or "http")
                || !string.IsNullOrEmpty(publicBase.Query) || !string.IsNullOrEmpty(publicBase.Fragment)))
        {
            yield return new ValidationResult($"Network:PublicBaseUrl '{PublicBaseUrl}' is not an http(s) address without query (write e.g. https://studio.example.com).", [nameof(PublicBaseUrl)]);
        }
        foreach (var proxy in KnownProxies)
        {
            if (!IPAddress.TryParse(proxy, out _))
            {
                yield return new ValidationResult($"Network:KnownProxies holds '{proxy}', which is not an IP address (write e.g. 10.0.0.2 or ::1).", [nameof(KnownProxies)]);
            }
        }
    }
}

/// <summary>
/// Trusts <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> from <see cref="NetworkOptions.KnownProxies"/> only;
/// the framework's default of trusting loopback is dropped, so an empty list trusts nobody.
/// </summary>
internal sealed class ForwardedHeadersSetup(IOptions<NetworkOptions> network) : IConfigureOptions<ForwardedHeadersOptions>
{
    public void Configure(ForwardedHeadersOptions options)
    {
        // With both lists empty the middleware would believe any sender; no proxy named means no header read.
        options.ForwardedHeaders = network.Value.KnownProxies.Count == 0
            ? ForwardedHeaders.None
            : ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        // The obsolete list is still consulted and holds 127.0.0.0/8 by default: empty it too, or loopback stays trusted.
#pragma warning disable ASPDEPR005
        options.KnownNetworks.Clear();
#pragma warning restore ASPDEPR005
        foreach (var proxy in network.Value.KnownProxies)
        {
            if (IPAddress.TryParse(proxy, out var address))
            {
                options.KnownProxies.Add(address);
            }
        }
    }
}
