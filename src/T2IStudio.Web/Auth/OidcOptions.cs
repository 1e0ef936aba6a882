using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Sign-in with the company's OpenID Connect provider (section <c>Authentication:Oidc</c>). Off unless both
/// <see cref="Authority"/> and <see cref="ClientId"/> are set.
/// </summary>
public sealed record OidcOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Authentication:Oidc";

    /// <summary>The authentication scheme's name (also the login provider stored with a linked account).</summary>
    public const string Scheme = "oidc";

    /// <summary>The provider's issuer address; its discovery document is read from <c>/.well-known/openid-configuration</c> below it.</summary>
    public string? Authority { get; init; }

    /// <summary>This app's client id at the provider.</summary>
    public string? ClientId { get; init; }

    /// <summary>This app's client secret at the provider (a confidential client; PKCE is used as well).</summary>
    public string? ClientSecret { get; init; }

    /// <summary>The provider's name on the button: "Sign in with {DisplayName}".</summary>
    [StringLength(60, ErrorMessage = "Authentication:Oidc:DisplayName has at most 60 characters.")]
    public string DisplayName { get; init; } = "company account";

    /// <summary>Email domains whose people may sign in (e.g. <c>example.com</c>); empty: any.</summary>
    public IReadOnlyList<string> AllowedDomains { get; init; } = [];

    /// <summary>The claim that carries the person's email.</summary>
    public string EmailClaim { get; init; } = "email";

    /// <summary>The claim that carries the person's display name.</summary>
    public string NameClaim { get; init; } = "name";

    /// <summary>Passwords are refused: everyone signs in through the provider.</summary>
    public bool Only { get; init; }

    /// <summary>Refuse an <c>http://</c> authority (the default); false only for loopback tests and labs.</summary>
    public bool RequireHttpsMetadata { get; init; } = true;

    /// <summary>
    /// Treat every email the provider sends as verified even without <c>email_verified=true</c>: only for a provider
    /// whose addresses are the company's own but that sends no such claim (e.g. an Entra ID tenant). Otherwise an
    /// unverified email does not pass <see cref="AllowedDomains"/> and is not trusted to link or confirm an account.
    /// </summary>
    public bool AssumeVerifiedEmails { get; init; }

    /// <summary>True when the provider is configured.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Authority) && !string.IsNullOrWhiteSpace(ClientId);

    /// <summary>The button's text.</summary>
    public string ButtonText => $"Sign in with {DisplayName}";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Authority) != string.IsNullOrWhiteSpace(ClientId))
        {
            yield return new ValidationResult("Authentication:Oidc needs both Authority and ClientId (or neither, to turn it off).", [nameof(Authority)]);
        }
        if (!string.IsNullOrWhiteSpace(Authority))
        {
            if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
            {
                yield return new ValidationResult($"Authentication:Oidc:Authority '{Authority}' is not an http(s) address.", [nameof(Authority)]);
            }
            else if (authority.Scheme == "http" && RequireHttpsMetadata)
            {
                yield return new ValidationResult(
                    $"Authentication:Oidc:Authority '{Authority}' is http://: use https, or set Authentication:Oidc:RequireHttpsMetadata=false (loopback tests and labs only).",
                    [nameof(Authority)]);
            }
        }
        if (Only && string.IsNullOrWhiteSpace(Authority))
        {
            yield return new ValidationResult("Authentication:Oidc:Only=true needs the provider configured (Authority and ClientId).", [nameof(Only)]);
        }
        foreach (var domain in AllowedDomains)
        {
            if (string.IsNullOrWhiteSpace(domain) || domain.Contains('@', StringComparison.Ordinal) || Uri.CheckHostName(domain.Trim()) != UriHostNameType.Dns)
            {
                yield return new ValidationResult($"Authentication:Oidc:AllowedDomains holds '{domain}', which is not a domain (write e.g. example.com).", [nameof(AllowedDomains)]);
            }
        }
    }
}
