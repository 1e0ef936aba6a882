using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Email;

/// <summary>Outgoing email (section <c>Email</c>). Off unless <c>Email:Smtp:Host</c> is set.</summary>
public sealed record EmailOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Email";

    /// <summary>The SMTP server.</summary>
    public SmtpOptions Smtp { get; init; } = new();

    /// <summary>True when a server is configured.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Smtp.Host);
}

/// <summary>The SMTP server mail is handed to (section <c>Email:Smtp</c>).</summary>
public sealed record SmtpOptions : IValidatableObject
{
    /// <summary>The server's host name; empty turns email off.</summary>
    public string? Host { get; init; }

    /// <summary>The port: 587 (submission with STARTTLS) by default, 465 for TLS on connect, 25 for a relay.</summary>
    [Range(1, 65535, ErrorMessage = "Email:Smtp:Port must be between 1 and 65535.")]
    public int Port { get; init; } = 587;

    /// <summary>Encrypt: TLS on connect on port 465, STARTTLS (required) on any other port. False: plain text (a loopback relay).</summary>
    public bool UseTls { get; init; } = true;

    /// <summary>The account to authenticate as; empty: no authentication.</summary>
    public string? User { get; init; }

    /// <summary>The account's password.</summary>
    public string? Password { get; init; }

    /// <summary>The sender, e.g. <c>T2I Studio &lt;studio@example.com&gt;</c>.</summary>
    public string? From { get; init; }

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Host) && string.IsNullOrWhiteSpace(From))
        {
            yield return new ValidationResult("Email:Smtp:From is needed when Email:Smtp:Host is set (e.g. \"T2I Studio <studio@example.com>\").", [nameof(From)]);
        }
    }
}
