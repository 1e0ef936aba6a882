using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Auth.TwoFactor;

/// <summary>
/// Identity's Entity Framework user store, except that two-factor recovery codes are kept as salted PBKDF2 hashes:
/// Identity stores them as plain text in <c>AspNetUserTokens</c>, where a database backup or a look at the table
/// would hand out codes that bypass the second factor. The codes are shown once, when they are made, and never again.
/// </summary>
/// <remarks>
/// A code is compared without its spaces and hyphens and in capitals, as people type it. Each code has about 47 bits
/// (ten characters of Identity's 26); the work factor makes guessing one from a stolen hash cost years, not hours,
/// while checking one at sign-in costs a few milliseconds. The authenticator key itself stays readable in the same
/// table: the server needs it to compute codes, so the table's access controls protect it.
/// </remarks>
public sealed class RecoveryCodeHashingUserStore(AppDbContext context, IdentityErrorDescriber? describer = null)
    : UserStore<AppUser, IdentityRole, AppDbContext>(context, describer)
{
    // Identity's own names for the recovery-code row (private in UserStoreBase).
    private const string InternalLoginProvider = "[AspNetUserStore]";
    private const string RecoveryCodeTokenName = "RecoveryCodes";
    private const string HashPrefix = "h1:";
    private const int Iterations = 50_000;

    /// <inheritdoc />
    public override Task ReplaceCodesAsync(AppUser user, IEnumerable<string> recoveryCodes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(recoveryCodes);
        var hashes = recoveryCodes.Select(code => Hash(user, code));
        return SetTokenAsync(user, InternalLoginProvider, RecoveryCodeTokenName, string.Join(';', hashes), cancellationToken);
    }

    /// <inheritdoc />
    public override async Task<bool> RedeemCodeAsync(AppUser user, string code, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(code);
        var stored = await GetTokenAsync(user, InternalLoginProvider, RecoveryCodeTokenName, cancellationToken) ?? "";
        var hashes = stored.Split(';', StringSplitOptions.RemoveEmptyEntries);
        var candidate = Encoding.ASCII.GetBytes(Hash(user, code));
        var found = -1;
        for (var i = 0; i < hashes.Length; i++)
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(hashes[i]), candidate) && found < 0)
            {
                found = i;
            }
        }
        if (found < 0)
        {
            return false;
        }
        var left = hashes.Where((_, i) => i != found);
        await SetTokenAsync(user, InternalLoginProvider, RecoveryCodeTokenName, string.Join(';', left), cancellationToken);
        return true;
    }

    /// <summary>A code as it is compared: no spaces or hyphens, capitals.</summary>
    public static string Normalize(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return new string([.. code.Where(c => !char.IsWhiteSpace(c) && c != '-').Select(char.ToUpperInvariant)]);
    }

    private static string Hash(AppUser user, string code)
    {
        // Salted by the person's id: the same code of two people hashes differently, and one guess tests one person.
        var salt = SHA256.HashData(Encoding.UTF8.GetBytes("T2IStudio recovery code:" + user.Id));
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(Normalize(code)), salt, Iterations, HashAlgorithmName.SHA256, 32);
        return HashPrefix + Convert.ToBase64String(hash);
    }
}
