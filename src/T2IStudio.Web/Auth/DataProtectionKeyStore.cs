using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using T2IStudio.Data;

namespace T2IStudio.Web.Auth;

/// <summary>
/// Keeps the keys that sign cookies and antiforgery tokens under <c>Storage:Root/keys</c>, so a restart
/// (or a new container on the same volume) does not sign everyone out.
/// </summary>
internal sealed class DataProtectionKeyStore(IOptions<StorageOptions> storage, IWebHostEnvironment environment, ILoggerFactory loggerFactory)
    : IConfigureOptions<KeyManagementOptions>
{
    public void Configure(KeyManagementOptions options)
    {
        var root = DataServiceExtensions.ResolveRoot(storage.Value.Root, environment.ContentRootPath);
        var keys = Directory.CreateDirectory(Path.Combine(root, "keys"));
        options.XmlRepository = new FileSystemXmlRepository(keys, loggerFactory);
    }
}
