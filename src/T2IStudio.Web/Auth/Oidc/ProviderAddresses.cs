using System.Collections.Concurrent;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace T2IStudio.Web.Auth.Oidc;

/// <summary>
/// Where the browser is sent at the company's provider: the origins the Content-Security-Policy's <c>form-action</c>
/// must allow (it applies to the redirect after a form post, so the "Sign in with …" and "Sign out" posts would be
/// blocked otherwise), and the provider's end-session endpoint for signing out there too.
/// </summary>
public sealed partial class ProviderAddresses
{
    private readonly ConcurrentDictionary<string, byte> _origins = new(StringComparer.OrdinalIgnoreCase);
    private readonly IOptionsMonitor<OpenIdConnectOptions> _handlerOptions;
    private readonly ILogger<ProviderAddresses> _logger;
    private string _formActionSources = "";

    /// <summary>Starts with the authority's origin; the discovery document's endpoints are added once it is read.</summary>
    /// <param name="startSettings">The settings the <c>oidc</c> scheme was registered with (or not) at start.</param>
    /// <param name="handlerOptions">The scheme's handler options, for its discovery document.</param>
    /// <param name="logger">Where a failed discovery read is reported.</param>
    public ProviderAddresses(OidcOptions startSettings, IOptionsMonitor<OpenIdConnectOptions> handlerOptions, ILogger<ProviderAddresses> logger)
    {
        ArgumentNullException.ThrowIfNull(startSettings);
        _handlerOptions = handlerOptions;
        _logger = logger;
        IsEnabled = startSettings.IsEnabled;
        if (IsEnabled)
        {
            Learn(startSettings.Authority);
        }
    }

    /// <summary>The company sign-in is configured: the <c>oidc</c> scheme was registered as the app started.</summary>
    public bool IsEnabled { get; }

    /// <summary>The provider origins for <c>form-action</c>, space-separated (empty when the company sign-in is off).</summary>
    public string FormActionSources => Volatile.Read(ref _formActionSources);

    /// <summary>Adds the origins of the endpoints the browser is sent to, from the provider's discovery document.</summary>
    public void Learn(OpenIdConnectConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Learn(configuration.AuthorizationEndpoint);
        Learn(configuration.EndSessionEndpoint);
    }

    /// <summary>Adds the origin of one address the browser is sent to (ignored unless http(s)).</summary>
    public void Learn(string? address)
    {
        if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            return;
        }
        if (_origins.TryAdd(uri.GetLeftPart(UriPartial.Authority), 0))
        {
            Volatile.Write(ref _formActionSources, string.Join(' ', _origins.Keys.Order(StringComparer.Ordinal)));
        }
    }

    /// <summary>
    /// The provider's end-session endpoint, or null when it offers none or cannot be reached now (signing out here
    /// must never depend on the provider being up).
    /// </summary>
    public async Task<string?> EndSessionEndpointAsync(CancellationToken cancellationToken) =>
        await LearnDiscoveryAsync(cancellationToken) is { EndSessionEndpoint: { Length: > 0 } endSession } ? endSession : null;

    /// <summary>
    /// Reads the provider's discovery document (cached by the handler's configuration manager) and learns the origins
    /// of its endpoints; null when the company sign-in is off or the provider cannot be reached now.
    /// </summary>
    public async Task<OpenIdConnectConfiguration?> LearnDiscoveryAsync(CancellationToken cancellationToken)
    {
        if (!IsEnabled || _handlerOptions.Get(OidcOptions.Scheme).ConfigurationManager is not { } manager)
        {
            return null;
        }
        try
        {
            var configuration = await manager.GetConfigurationAsync(cancellationToken);
            Learn(configuration);
            return configuration;
        }
        catch (InvalidOperationException ex)
        {
            // The manager wraps fetch and parse failures as InvalidOperationException (IDX20803).
            LogDiscoveryFailed(ex);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The company provider's discovery document could not be read; signing out here only")]
    private partial void LogDiscoveryFailed(Exception exception);
}
