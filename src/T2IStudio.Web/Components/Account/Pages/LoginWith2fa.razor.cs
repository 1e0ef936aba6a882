namespace T2IStudio.Web.Components.Account.Pages;

/// <summary>The second step of a password sign-in when two-factor authentication is on: the authenticator code.</summary>
public partial class LoginWith2fa
{
    // Static: the logger is an @inject property, which this generator cannot see in the Razor-generated half.
    [LoggerMessage(Level = LogLevel.Information, Message = "A user signed in with an authenticator code.")]
    private static partial void LogSignedIn(ILogger logger);
}
