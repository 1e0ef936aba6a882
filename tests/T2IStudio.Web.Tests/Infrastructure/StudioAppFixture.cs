namespace T2IStudio.Web.Tests.Infrastructure;

/// <summary>One app (and one database) shared by the tests of a class.</summary>
public sealed class StudioAppFixture : IDisposable
{
    public StudioAppFactory Factory { get; } = new();

    public void Dispose() => Factory.Dispose();
}
