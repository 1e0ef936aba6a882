using Microsoft.AspNetCore.Identity;

namespace T2IStudio.Data.Entities;

/// <summary>A person with an account in T2I Studio.</summary>
public sealed class AppUser : IdentityUser
{
    /// <summary>The name shown in the app bar and to teammates; defaults to the part of the email before '@'.</summary>
    public string DisplayName { get; set; } = "";

    /// <summary>When the account was registered (UTC). The earliest account is the first admin.</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>An admin disabled this account: it cannot sign in, and open circuits are closed at their next action.</summary>
    public bool IsDisabled { get; set; }

    /// <summary>The person's theme choice; <c>null</c> follows the operating system.</summary>
    public bool? PrefersDarkMode { get; set; }

    /// <summary>The Create page's last parameters (JSON), so they are there next time, in any browser.</summary>
    public string? CreateSettingsJson { get; set; }

    /// <summary>
    /// The person asked to be emailed when someone approves, requests changes to or comments on their image
    /// (off by default; only sent while the server has SMTP configured).
    /// </summary>
    public bool EmailOnImageActivity { get; set; }
}
