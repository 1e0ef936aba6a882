using T2IStudio.Web.Tests.Infrastructure;

namespace T2IStudio.Web.Tests.Postgres;

/// <summary>The app on either database engine, for tests that prove the same behaviour on both.</summary>
public static class Providers
{
    /// <summary>The provider names, as <c>Database:Provider</c> spells them.</summary>
    public static TheoryData<string> Both => new() { "sqlite", "postgres" };

    /// <summary>The app on a fresh database of <paramref name="provider"/> (disposing removes it).</summary>
    public static async Task<StudioAppFactory> StartAsync(string provider, IDictionary<string, string?>? settings = null, string? storageRoot = null) =>
        provider == "postgres"
            ? await PostgresAppFactory.StartAsync(settings, storageRoot)
            : new StudioAppFactory(storageRoot, settings);
}
