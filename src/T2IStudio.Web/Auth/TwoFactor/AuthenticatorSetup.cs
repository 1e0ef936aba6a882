using QRCoder;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>What the enrolment page shows an authenticator app: the key to type, and the same as a QR code.</summary>
public static class AuthenticatorSetup
{
    /// <summary>The issuer authenticator apps show beside the account.</summary>
    public const string Issuer = "T2I Studio";

    /// <summary>The key in groups of four, lower case, as people type it from the screen.</summary>
    public static string FormatKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return string.Join(' ', key.Chunk(4).Select(group => new string(group))).ToLowerInvariant();
    }

    /// <summary>The <c>otpauth://</c> address (Google Authenticator's key URI format) the QR code carries.</summary>
    public static string AuthenticatorUri(string email, string key)
    {
        ArgumentNullException.ThrowIfNull(email);
        ArgumentNullException.ThrowIfNull(key);
        var issuer = Uri.EscapeDataString(Issuer);
        return $"otpauth://totp/{issuer}:{Uri.EscapeDataString(email)}?secret={key}&issuer={issuer}&digits=6";
    }

    /// <summary>The QR code of <paramref name="uri"/> as a PNG <c>data:</c> address (the page's CSP allows <c>img-src data:</c>; no script).</summary>
    public static string QrCodeDataUri(string uri)
    {
        var png = PngByteQRCodeHelper.GetQRCode(uri, QRCodeGenerator.ECCLevel.M, 5);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
