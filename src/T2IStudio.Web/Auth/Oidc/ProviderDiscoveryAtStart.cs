namespace T2IStudio.Web.Auth.Oidc;

/// <summary>
/// Reads the provider's discovery document once, in the background, as the app starts: a sign-in session can outlive
/// a restart, and its first "Sign out" must be allowed (Content-Security-Policy <c>form-action</c>) to redirect to an
/// end-session endpoint whose origin differs from the authority's. A provider that is down only delays that until
/// the next challenge or sign-out reads it.
/// </summary>
internal sealed class ProviderDiscoveryAtStart(ProviderAddresses addresses) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await addresses.LearnDiscoveryAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before the provider answered.
        }
    }
}
