using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;
using T2IStudio.Data;

namespace T2IStudio.Web.Auth;

/// <summary>How the data-protection keys are kept at rest (section <c>DataProtection</c>).</summary>
public sealed record KeyProtectionOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "DataProtection";

    /// <summary>
    /// A PKCS#12 (.pfx) file with a certificate and its private key; relative paths are under the content root.
    /// When set, every key is written encrypted to that certificate (and read back with it). Empty (the default):
    /// the keys are plain XML under <c>Storage:Root/keys</c>, protected only by the file system's permissions.
    /// </summary>
    public string? CertificatePath { get; init; }

    /// <summary>The .pfx file's password, if it has one.</summary>
    public string? CertificatePassword { get; init; }
}

/// <summary>
/// Keeps the keys that sign cookies and antiforgery tokens where every start finds them, so a restart (or a new
/// container on the same volume) does not sign everyone out: on SQLite under <c>Storage:Root/keys</c>; on
/// PostgreSQL in the database's <c>DataProtectionKeys</c> table, so a cookie or form token from one web node is
/// good on every other.
/// </summary>
internal sealed class DataProtectionKeyStore(
    IOptions<StorageOptions> storage,
    IOptions<DatabaseOptions> database,
    IServiceProvider services,
    IWebHostEnvironment environment,
    ILoggerFactory loggerFactory)
    : IConfigureOptions<KeyManagementOptions>
{
    public void Configure(KeyManagementOptions options)
    {
        if (database.Value.Engine == DatabaseProvider.Postgres)
        {
            // Each read and write takes its own scope (and context) from the root provider.
            options.XmlRepository = new EntityFrameworkCoreXmlRepository<AppDbContext>(services, loggerFactory);
            return;
        }
        var root = DataServiceExtensions.ResolveRoot(storage.Value.Root, environment.ContentRootPath);
        var keys = Directory.CreateDirectory(Path.Combine(root, "keys"));
        options.XmlRepository = new FileSystemXmlRepository(keys, loggerFactory);
    }

    /// <summary>
    /// Encrypts the keys at rest with the certificate named by <c>DataProtection:CertificatePath</c>, when one is
    /// named; the same certificate decrypts them, so no certificate store is needed.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is missing, the password is wrong, or it has no private key.</exception>
    public static IDataProtectionBuilder ProtectKeysWhenConfigured(IDataProtectionBuilder builder, IConfiguration configuration, string contentRoot)
    {
        var options = configuration.GetSection(KeyProtectionOptions.Section).Get<KeyProtectionOptions>() ?? new KeyProtectionOptions();
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            return builder;
        }
        var path = Path.GetFullPath(options.CertificatePath, contentRoot);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"DataProtection:CertificatePath names '{path}', which does not exist. Name a .pfx file with a private key, or remove the setting to keep the keys unencrypted.");
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.CertificatePassword);
        }
        catch (CryptographicException ex)
        {
            throw new InvalidOperationException($"DataProtection:CertificatePath '{path}' could not be opened as a .pfx file with DataProtection:CertificatePassword: {ex.Message}", ex);
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw new InvalidOperationException($"The certificate in '{path}' (DataProtection:CertificatePath) has no private key, so the keys it encrypts could not be read back.");
        }
        // Named for decryption too: keys written with it are read back without the machine's certificate store.
        return builder.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
    }
}
