using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Auth;

namespace T2IStudio.Web.Email;

/// <summary>What became of an account email.</summary>
public enum AccountMailOutcome
{
    /// <summary>Queued for sending.</summary>
    Sent,

    /// <summary>Not sent: one of this kind went to the account less than <see cref="AccountMail.Interval"/> ago.</summary>
    Throttled,

    /// <summary>Not sent: email is off (no <c>Email:Smtp:Host</c>).</summary>
    EmailOff,

    /// <summary>Not sent: the mail queue is full (the SMTP server is not keeping up).</summary>
    Dropped,
}

/// <summary>
/// The account emails: address confirmation and password reset, each with a one-day Identity token in a link under
/// <c>Network:PublicBaseUrl</c>. At most one of each kind goes to an account per <see cref="Interval"/>, so the
/// anonymous "send it again" and "forgot password" forms cannot be used to flood someone's inbox. The time of the
/// last one is kept with the account (Identity's user tokens), so the limit holds across restarts and nodes, and two
/// requests at the same moment cannot both pass it (the second update fails on the account's concurrency stamp).
/// </summary>
public sealed partial class AccountMail(UserManager<AppUser> users, StudioMail mail, TimeProvider time, ILogger<AccountMail> logger)
{
    /// <summary>The least time between two emails of one kind to one account.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(2);

    /// <summary>The confirmation template (<c>Email/Templates/ConfirmEmail.txt</c>).</summary>
    public const string ConfirmTemplate = "ConfirmEmail";

    /// <summary>The password reset template (<c>Email/Templates/ResetPassword.txt</c>).</summary>
    public const string ResetTemplate = "ResetPassword";

    /// <summary>The user-token provider name under which the send times are kept (apart from Identity's own tokens).</summary>
    internal const string SentAtProvider = "T2IStudio";

    /// <summary>True when email is configured.</summary>
    public bool IsEnabled => mail.IsEnabled;

    /// <summary>Emails <paramref name="user"/> a link to <c>/Account/ConfirmEmail</c> that confirms their address.</summary>
    public Task<AccountMailOutcome> SendConfirmationAsync(AppUser user) =>
        SendAsync(user, ConfirmTemplate, "/Account/ConfirmEmail", () => users.GenerateEmailConfirmationTokenAsync(user));

    /// <summary>Emails <paramref name="user"/> a link to <c>/Account/ResetPassword</c> that lets them choose a new password.</summary>
    public Task<AccountMailOutcome> SendPasswordResetAsync(AppUser user) =>
        SendAsync(user, ResetTemplate, "/Account/ResetPassword", () => users.GeneratePasswordResetTokenAsync(user));

    /// <summary>The form an Identity token travels in a link: Base64Url of its UTF-8 bytes.</summary>
    public static string EncodeCode(string token) => WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token));

    /// <summary>The Identity token a link's <c>code</c> carries; null when it is not Base64Url (a mangled link).</summary>
    public static string? DecodeCode(string? code)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(code.Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private async Task<AccountMailOutcome> SendAsync(AppUser user, string template, string path, Func<Task<string>> token)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (!mail.IsEnabled || string.IsNullOrEmpty(user.Email))
        {
            return AccountMailOutcome.EmailOff;
        }
        if (!await ClaimSlotAsync(user, template))
        {
            LogThrottled(logger, template, user.Id);
            return AccountMailOutcome.Throttled;
        }
        var code = EncodeCode(await token());
        var link = mail.Link($"{path}?userId={Uri.EscapeDataString(user.Id)}&code={code}");
        var values = new Dictionary<string, string>
        {
            ["name"] = string.IsNullOrWhiteSpace(user.DisplayName) ? user.Email : user.DisplayName,
            ["email"] = user.Email,
            ["server"] = mail.Link("/").Authority,
            ["link"] = link.AbsoluteUri,
        };
        if (!mail.Send(template, user.Email, user.DisplayName, values))
        {
            return AccountMailOutcome.Dropped;
        }
        LogQueued(logger, template, user.Id);
        return AccountMailOutcome.Sent;
    }

    /// <summary>Records that a <paramref name="template"/> mail goes out now; false when one went out within <see cref="Interval"/>.</summary>
    private async Task<bool> ClaimSlotAsync(AppUser user, string template)
    {
        var name = template + "SentAt";
        var now = time.GetUtcNow();
        // Either side of now (another node's clock may run a little ahead); a time far ahead does not block for ever.
        var last = await users.GetAuthenticationTokenAsync(user, SentAtProvider, name);
        if (DateTimeOffset.TryParse(last, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var sentAt) && (now - sentAt).Duration() < Interval)
        {
            return false;
        }
        // Saved with a new concurrency stamp: of two requests that read the same old time, only one saves.
        // The first time, both insert the row instead: the loser's insert fails on the key and counts as throttled.
        try
        {
            var saved = await users.SetAuthenticationTokenAsync(user, SentAtProvider, name, now.ToString("O", CultureInfo.InvariantCulture));
            return saved.Succeeded;
        }
        catch (DbUpdateException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Queued the '{Template}' email for account {UserId}")]
    private static partial void LogQueued(ILogger logger, string template, string userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Did not send the '{Template}' email to account {UserId}: one went less than two minutes ago")]
    private static partial void LogThrottled(ILogger logger, string template, string userId);
}

/// <summary>
/// <c>Accounts:RequireConfirmedEmail</c> becomes Identity's <c>SignIn.RequireConfirmedEmail</c>, which every sign-in
/// path checks (see <see cref="StudioSignInManager"/> for the password path's order of checks).
/// </summary>
internal sealed class RequireConfirmedEmailSetup(IOptions<AccountOptions> accounts) : IConfigureOptions<IdentityOptions>
{
    public void Configure(IdentityOptions options) => options.SignIn.RequireConfirmedEmail = accounts.Value.RequireConfirmedEmail;
}
