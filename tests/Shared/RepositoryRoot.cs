namespace T2IStudio.Testing;

/// <summary>The repository root (the app's content root: models/, wwwroot/), found by walking up to T2IStudio.sln.</summary>
/// <remarks>Linked into every test project and the benchmarks by tests/Directory.Build.props and the bench project.</remarks>
internal static class RepositoryRoot
{
    /// <summary>The folder that holds T2IStudio.sln.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "T2IStudio.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("T2IStudio.sln not found above " + AppContext.BaseDirectory);
    }
}
