namespace T2IStudio.Web.Components.Account.Pages;

/// <summary>The page a password reset link opens.</summary>
public partial class ResetPassword
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} chose a new password through a reset link")]
    private static partial void LogReset(ILogger logger, string userId);
}
