using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.EntityFrameworkCore;
using T2IStudio.Data;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Access;

/// <summary>What someone wants to do with an image, job or prompt.</summary>
public static class ResourceOperations
{
    /// <summary>See it, download it, reuse it.</summary>
    public static readonly OperationAuthorizationRequirement Read = new() { Name = nameof(Read) };

    /// <summary>Change, cancel or delete it.</summary>
    public static readonly OperationAuthorizationRequirement Change = new() { Name = nameof(Change) };
}

/// <summary>
/// The owner may do anything with their own rows. Teammates may read an image that sits in one of their team's
/// galleries, and a job that generates into one (its progress); nothing else. Membership is read from the
/// database on every check, so a removed member loses access at their next request.
/// </summary>
public sealed class ResourceAccessHandler(IDbContextFactory<AppDbContext> dbFactory) : AuthorizationHandler<OperationAuthorizationRequirement, IOwnedResource>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, OperationAuthorizationRequirement requirement, IOwnedResource resource)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        ArgumentNullException.ThrowIfNull(resource);
        if (context.User.FindFirstValue(ClaimTypes.NameIdentifier) is not { Length: > 0 } userId)
        {
            return;
        }
        if (string.Equals(userId, resource.OwnerId, StringComparison.Ordinal))
        {
            context.Succeed(requirement);
            return;
        }
        if (requirement.Name != ResourceOperations.Read.Name)
        {
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync();
        var shared = resource switch
        {
            GeneratedImage image => await db.GalleryItems.AnyAsync(i => i.ImageId == image.Id
                && db.TeamMembers.Any(m => m.TeamId == i.Gallery!.TeamId && m.UserId == userId)),
            Job { GalleryId: { } galleryId } => await db.Galleries.AnyAsync(g => g.Id == galleryId
                && db.TeamMembers.Any(m => m.TeamId == g.TeamId && m.UserId == userId)),
            _ => false,
        };
        if (shared)
        {
            context.Succeed(requirement);
        }
    }
}

/// <summary>Resource-based checks for endpoints and component handlers alike.</summary>
public sealed class ResourceAccess(IAuthorizationService authorization)
{
    /// <summary>True when <paramref name="user"/> may do <paramref name="operation"/> on <paramref name="resource"/>.</summary>
    public async Task<bool> AllowsAsync(ClaimsPrincipal user, IOwnedResource? resource, OperationAuthorizationRequirement operation)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (resource is null)
        {
            return false;
        }
        var result = await authorization.AuthorizeAsync(user, resource, operation);
        return result.Succeeded;
    }

    /// <summary>The signed-in user's id, or null for an anonymous principal.</summary>
    public static string? UserId(ClaimsPrincipal user) =>
        user?.FindFirstValue(ClaimTypes.NameIdentifier) is { Length: > 0 } id ? id : null;
}
