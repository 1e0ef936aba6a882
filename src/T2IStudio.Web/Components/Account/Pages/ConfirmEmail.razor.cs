namespace T2IStudio.Web.Components.Account.Pages;

/// <summary>The page an address confirmation link opens.</summary>
public partial class ConfirmEmail
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Account {UserId} confirmed its email address")]
    private static partial void LogConfirmed(ILogger logger, string userId);
}
