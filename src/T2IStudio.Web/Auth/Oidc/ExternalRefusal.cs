namespace T2IStudio.Web.Auth.Oidc;

/// <summary>Why a sign-in, link or unlink with the company's provider was refused.</summary>
public enum ExternalRefusal
{
    /// <summary>Not refused.</summary>
    None,

    /// <summary>The round trip failed: a missing or altered <c>state</c>, an expired attempt, a provider error.</summary>
    Failed,

    /// <summary>The person chose not to allow access at the provider.</summary>
    Denied,

    /// <summary>The provider sent no email.</summary>
    EmailMissing,

    /// <summary>The email is outside <see cref="OidcOptions.AllowedDomains"/>.</summary>
    DomainNotAllowed,

    /// <summary>The provider did not verify the email, and this studio needs it verified (allowed domains, confirmed emails).</summary>
    EmailNotVerified,

    /// <summary>The email has characters outside ASCII, which case-folding could match to another address.</summary>
    EmailNotAscii,

    /// <summary>The account here is disabled.</summary>
    Disabled,

    /// <summary>The account here is locked after failed sign-ins.</summary>
    LockedOut,

    /// <summary>The account's email is not confirmed while confirmation is required.</summary>
    Unconfirmed,

    /// <summary>An account with this email exists, but the email is not verified on both sides, so it is not linked automatically.</summary>
    EmailTaken,

    /// <summary>Registration is closed.</summary>
    RegistrationClosed,

    /// <summary>Registration needs an invitation and there is none for this email (or the invite link is not usable).</summary>
    InvitationNeeded,

    /// <summary>The provider does not vouch for the email, so a team invitation for it cannot be used.</summary>
    UnverifiedInvitation,

    /// <summary>This provider account is already linked to another account here.</summary>
    LinkedElsewhere,

    /// <summary>This account here is already linked to another provider account.</summary>
    AlreadyLinked,

    /// <summary>The link was started by another signed-in account than the one finishing it.</summary>
    LinkMismatch,

    /// <summary>Unlinking would leave the account without a way in (no password, or passwords are off).</summary>
    OnlyWayIn,

    /// <summary>The company sign-in is not configured.</summary>
    NotConfigured,
}

/// <summary>The sentences shown for each <see cref="ExternalRefusal"/>, and their short codes in page addresses.</summary>
public static class ExternalRefusals
{
    /// <summary>The prefix of a sign-in page <c>status</c> that reports an external sign-in refusal (e.g. <c>external-failed</c>).</summary>
    public const string StatusPrefix = "external-";

    /// <summary>The short code of <paramref name="refusal"/> for an address (<c>DomainNotAllowed</c> → <c>domain-not-allowed</c>).</summary>
    public static string Code(ExternalRefusal refusal) =>
        string.Concat(refusal.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    /// <summary>The refusal a short code names, or null for anything else (an address is input).</summary>
    public static ExternalRefusal? FromCode(string? code)
    {
        foreach (var refusal in Enum.GetValues<ExternalRefusal>())
        {
            if (refusal != ExternalRefusal.None && Code(refusal) == code)
            {
                return refusal;
            }
        }
        return null;
    }

    /// <summary>The message for a sign-in page <c>status</c> of the form <c>external-…</c>; null for other statuses.</summary>
    public static string? ForStatus(string? status, OidcOptions options) =>
        status is not null && status.StartsWith(StatusPrefix, StringComparison.Ordinal) && FromCode(status[StatusPrefix.Length..]) is { } refusal
            ? Message(refusal, options)
            : null;

    /// <summary>The sentence for the person.</summary>
    public static string Message(ExternalRefusal refusal, OidcOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var provider = options.DisplayName;
        return refusal switch
        {
            ExternalRefusal.Failed => $"Signing in with {provider} did not complete (the attempt expired or its answer did not match). Try again.",
            ExternalRefusal.Denied => $"You did not allow T2I Studio access at {provider}, so you are not signed in.",
            ExternalRefusal.EmailMissing => $"Your {provider} account did not share an email address, which T2I Studio needs. Ask your administrator.",
            ExternalRefusal.DomainNotAllowed => $"Your {provider} account's email is not in an allowed domain for this studio ({string.Join(", ", options.AllowedDomains)}).",
            ExternalRefusal.EmailNotVerified => $"{provider} did not verify your email address, and this studio accepts only verified addresses. Verify it at {provider}, or ask your administrator.",
            ExternalRefusal.EmailNotAscii => $"Your {provider} account's email address has characters other than plain letters, digits and punctuation (ASCII), which this studio does not accept. Ask your administrator.",
            ExternalRefusal.Disabled => "This account has been disabled by an administrator.",
            ExternalRefusal.LockedOut => "Too many failed sign-ins: this account is locked for 15 minutes.",
            ExternalRefusal.Unconfirmed => "Confirm your email address first: open the link we emailed you when you registered.",
            ExternalRefusal.EmailTaken => options.Only
                ? $"An account with this email exists here, but {provider} did not confirm the email, so it was not linked. Ask an administrator."
                : $"An account with this email exists here. Sign in with your password, then link {provider} on your account page.",
            ExternalRefusal.RegistrationClosed => AccountRegistration.ClosedMessage,
            ExternalRefusal.InvitationNeeded => $"Registration here needs an invitation: ask a team to invite your {provider} email, or open the invite link an administrator sent you.",
            ExternalRefusal.UnverifiedInvitation => $"{provider} did not confirm your email, so the invitation for it cannot be used. Ask your administrator.",
            ExternalRefusal.LinkedElsewhere => $"This {provider} account is already linked to another account here.",
            ExternalRefusal.AlreadyLinked => $"Your account is already linked to a {provider} account: unlink it first.",
            ExternalRefusal.LinkMismatch => $"The {provider} link was started by another account: start it again from your account page.",
            ExternalRefusal.OnlyWayIn => options.Only
                ? $"Passwords are turned off here, so {provider} is the only way to sign in: it cannot be unlinked."
                : $"This account has no password, so {provider} is its only way in: it cannot be unlinked.",
            ExternalRefusal.NotConfigured => "Signing in with a company account is not set up on this studio.",
            _ => "",
        };
    }
}
