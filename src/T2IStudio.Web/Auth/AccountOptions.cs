using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Auth;

/// <summary>Who may create an account.</summary>
public enum RegistrationMode
{
    /// <summary>Anyone who can reach the app may register (a fresh single-user install).</summary>
    Open = 0,

    /// <summary>Registering needs a team invitation for that email or an administrator's invite link.</summary>
    InviteOnly = 1,

    /// <summary>Nobody registers; administrators make accounts another way. The first account of an empty install is still allowed.</summary>
    Closed = 2,
}

/// <summary>Account settings (section <c>Accounts</c>).</summary>
public sealed record AccountOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Accounts";

    /// <summary>Who may register: <c>Open</c>, <c>InviteOnly</c> or <c>Closed</c>.</summary>
    [EnumDataType(typeof(RegistrationMode), ErrorMessage = "Accounts:Registration must be Open, InviteOnly or Closed.")]
    public RegistrationMode Registration { get; init; } = RegistrationMode.Open;

    /// <summary>How long an administrator's invite link registers someone, in days.</summary>
    [Range(1, 365, ErrorMessage = "Accounts:InviteLinkDays must be between 1 and 365.")]
    public int InviteLinkDays { get; init; } = 7;

    /// <summary>Everyone who signs in with a password must use two-factor authentication: those without it enrol at their next sign-in.</summary>
    public bool RequireTwoFactor { get; init; }

    /// <summary>A new account must confirm its email (a link sent by email) before it can sign in; needs <c>Email:Smtp</c>.</summary>
    public bool RequireConfirmedEmail { get; init; }
}
