using T2IStudio.Web.Tests.Api;
using T2IStudio.Web.Tests.Infrastructure;
using T2IStudio.Web.Tests.Integration;

namespace T2IStudio.Web.Tests.Postgres;

// The data-access tests again on PostgreSQL: each class below runs every test of its SQLite class, with the app
// (or the class's shared app) on a PostgreSQL database of its own.

/// <summary><see cref="GenerationQueueTests"/> on PostgreSQL.</summary>
public sealed class GenerationQueueOnPostgresTests : GenerationQueueTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="CommentTests"/> on PostgreSQL.</summary>
public sealed class CommentOnPostgresTests : CommentTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="SharedGalleryTests"/> on PostgreSQL.</summary>
public sealed class SharedGalleryOnPostgresTests : SharedGalleryTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="RegistrationTests"/> (the first-account race included) on PostgreSQL.</summary>
public sealed class RegistrationOnPostgresTests : RegistrationTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="GalleryTests"/> on PostgreSQL.</summary>
public sealed class GalleryOnPostgresTests(GalleryOnPostgresTests.ThreeImagesOnPostgres world) : GalleryTests(world), IClassFixture<GalleryOnPostgresTests.ThreeImagesOnPostgres>, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    /// <summary>The gallery's three images on PostgreSQL.</summary>
    public sealed class ThreeImagesOnPostgres() : ThreeImages(PostgresAppFactory.Create());

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="ImageAccessTests"/> on PostgreSQL.</summary>
public sealed class ImageAccessOnPostgresTests(ImageAccessOnPostgresTests.TwoUsersOnPostgres world) : ImageAccessTests(world), IClassFixture<ImageAccessOnPostgresTests.TwoUsersOnPostgres>
{
    /// <summary>Alice's image and Bob on PostgreSQL.</summary>
    public sealed class TwoUsersOnPostgres() : TwoUsers(PostgresAppFactory.Create());
}

/// <summary><see cref="TeamTests"/> on PostgreSQL.</summary>
public sealed class TeamOnPostgresTests(PostgresAppFixture fixture) : TeamTests(fixture), IClassFixture<PostgresAppFixture>;

/// <summary><see cref="ApiV1LibraryTests"/> (the search of the API's image list included) on PostgreSQL.</summary>
public sealed class ApiV1LibraryOnPostgresTests(PostgresAppFixture fixture) : ApiV1LibraryTests(fixture), IClassFixture<PostgresAppFixture>;

/// <summary><see cref="ReviewTests"/> on PostgreSQL.</summary>
public sealed class ReviewOnPostgresTests : ReviewTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="ApprovedExportTests"/> on PostgreSQL.</summary>
public sealed class ApprovedExportOnPostgresTests : ApprovedExportTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="StyleTests"/> on PostgreSQL.</summary>
public sealed class StyleOnPostgresTests : StyleTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="TeamLimitsTests"/> on PostgreSQL.</summary>
public sealed class TeamLimitsOnPostgresTests : TeamLimitsTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="TeamActivityTests"/> on PostgreSQL.</summary>
public sealed class TeamActivityOnPostgresTests : TeamActivityTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}

/// <summary><see cref="NotificationTests"/> on PostgreSQL.</summary>
public sealed class NotificationOnPostgresTests : NotificationTests, IAsyncLifetime
{
    private readonly PostgresDatabases _databases = new();

    protected override StudioAppFactory NewApp(string? storageRoot = null, IDictionary<string, string?>? settings = null) => _databases.App(storageRoot, settings);

    public Task InitializeAsync() => _databases.InitializeAsync();

    public Task DisposeAsync() => _databases.DisposeAsync();
}
