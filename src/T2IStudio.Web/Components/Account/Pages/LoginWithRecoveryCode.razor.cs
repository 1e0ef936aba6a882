namespace T2IStudio.Web.Components.Account.Pages;

/// <summary>The second step of a password sign-in with a recovery code instead of the authenticator app.</summary>
public partial class LoginWithRecoveryCode
{
    // Static: the logger is an @inject property, which this generator cannot see in the Razor-generated half.
    [LoggerMessage(Level = LogLevel.Information, Message = "A user signed in with a recovery code.")]
    private static partial void LogSignedIn(ILogger logger);
}
