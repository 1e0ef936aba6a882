namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>One app (and one database) shared by the tests of a class.</summary>
public class StudioAppFixture : IDisposable
{
    /// <summary>The app on SQLite.</summary>
    public StudioAppFixture()
        : this(new StudioAppFactory())
    {
    }

    /// <summary>The given app (another engine).</summary>
    protected StudioAppFixture(StudioAppFactory factory) => Factory = factory;

    public StudioAppFactory Factory { get; }

    public void Dispose()
    {
        Factory.Dispose();
        GC.SuppressFinalize(this);
    }
}
