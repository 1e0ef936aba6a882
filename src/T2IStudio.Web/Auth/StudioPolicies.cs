namespace T2IStudio.Web.Auth;

/// <summary>Names of the app's authorization policies.</summary>
public static class StudioPolicies
{
    /// <summary>Members of the Admin role.</summary>
    public const string Admin = "Admin";
}
