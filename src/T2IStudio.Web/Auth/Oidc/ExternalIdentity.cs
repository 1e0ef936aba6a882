using System.Security.Claims;
using System.Text;

namespace T2IStudio.Web.Auth.Oidc;

/// <summary>Who the provider says signed in: its subject, and the email and name it released.</summary>
/// <param name="Subject">The provider's stable id for the person (<c>sub</c>), the key stored with a linked account.</param>
/// <param name="Email">The email from <see cref="OidcOptions.EmailClaim"/>, or null when the provider sent none.</param>
/// <param name="EmailVerified">The provider vouches for the email (<c>email_verified</c> is true).</param>
/// <param name="Name">The display name from <see cref="OidcOptions.NameClaim"/>, when sent.</param>
public sealed record ExternalIdentity(string Subject, string? Email, bool EmailVerified, string? Name)
{
    /// <summary>The claim a provider uses to vouch for the email (OpenID Connect Core §5.1).</summary>
    public const string EmailVerifiedClaim = "email_verified";

    /// <summary>
    /// Reads the external principal the OIDC handler produced (inbound claims are not renamed, so claim types are the
    /// provider's own names). Null when it carries no subject, which no conforming provider sends.
    /// </summary>
    public static ExternalIdentity? From(ClaimsPrincipal principal, OidcOptions options)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(options);
        var subject = principal.FindFirstValue("sub") ?? principal.FindFirstValue(ClaimTypes.NameIdentifier);
        if (string.IsNullOrWhiteSpace(subject))
        {
            return null;
        }
        var email = principal.FindFirstValue(options.EmailClaim)?.Trim();
        var verified = bool.TryParse(principal.FindFirstValue(EmailVerifiedClaim), out var isVerified) && isVerified;
        var name = principal.FindFirstValue(options.NameClaim)?.Trim();
        return new(subject, string.IsNullOrEmpty(email) ? null : email, verified, string.IsNullOrEmpty(name) ? null : name);
    }

    /// <summary>
    /// True when the email is plain ASCII: case-insensitive lookups upper-case with Unicode rules (U+017F "ſ" becomes
    /// "S", the Kelvin sign becomes "k" in lower case), so another address could match or pass a domain check.
    /// </summary>
    public bool EmailIsAscii => Email is not null && Ascii.IsValid(Email);

    /// <summary>The part of the email after its last '@' (lower case), or null without a usable email.</summary>
    public string? EmailDomain
    {
        get
        {
            var at = Email?.LastIndexOf('@') ?? -1;
            return at > 0 && at < Email!.Length - 1 ? Email[(at + 1)..].ToLowerInvariant() : null;
        }
    }

    /// <summary>True when <paramref name="options"/> allows any domain, or the email's domain exactly.</summary>
    public bool IsInAllowedDomain(OidcOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.AllowedDomains.Count == 0)
        {
            return true;
        }
        var domain = EmailDomain;
        return domain is not null && options.AllowedDomains.Any(allowed => string.Equals(allowed.Trim(), domain, StringComparison.OrdinalIgnoreCase));
    }
}
