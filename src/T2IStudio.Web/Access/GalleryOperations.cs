using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using T2IStudio.Data.Entities;

namespace T2IStudio.Web.Access;

/// <summary>Something a person wants to do in a gallery, and the least role that allows it.</summary>
/// <param name="Name">The operation, as logs and tests name it.</param>
/// <param name="LeastRole">The lowest gallery role that may do it.</param>
public sealed record GalleryRequirement(string Name, TeamRole LeastRole) : IAuthorizationRequirement
{
    /// <summary>True when someone with <paramref name="role"/> (null: cannot see the gallery) may do this.</summary>
    public bool AllowedFor(TeamRole? role) => role is { } held && held >= LeastRole;
}

/// <summary>What someone may want to do in a gallery. The resource checked is the gallery's id or its row.</summary>
public static class GalleryOperations
{
    /// <summary>See the gallery, its images and who is in it: any role.</summary>
    public static readonly GalleryRequirement View = new(nameof(View), TeamRole.Viewer);

    /// <summary>Add images to it and take them out again: editors and owners.</summary>
    public static readonly GalleryRequirement AddImages = new(nameof(AddImages), TeamRole.Editor);

    /// <summary>Rename or delete it: its owners (the person for a private gallery, the team's owners for a team's).</summary>
    public static readonly GalleryRequirement Manage = new(nameof(Manage), TeamRole.Owner);
}

/// <summary>
/// Decides gallery operations from the person's role there (<see cref="GalleryAccess"/>), read from the database on
/// every check. Someone who cannot see the gallery fails every operation, so callers answer "missing", never
/// "forbidden".
/// </summary>
public sealed class GalleryAuthorizationHandler(GalleryAccess access) : AuthorizationHandler<GalleryRequirement>
{
    /// <inheritdoc />
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, GalleryRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        Guid? galleryId = context.Resource switch
        {
            Guid value => value,
            Gallery gallery => gallery.Id,
            _ => null,
        };
        if (galleryId is not { } id || context.User.FindFirstValue(ClaimTypes.NameIdentifier) is not { Length: > 0 } userId)
        {
            return;
        }
        if (requirement.AllowedFor(await access.RoleAsync(userId, id)))
        {
            context.Succeed(requirement);
        }
    }
}

/// <summary>Gallery checks in one call, for services and component handlers alike.</summary>
public static class GalleryAuthorization
{
    /// <summary>True when <paramref name="user"/> may do <paramref name="operation"/> in gallery <paramref name="galleryId"/>.</summary>
    public static async Task<bool> AllowsAsync(this IAuthorizationService authorization, ClaimsPrincipal user, Guid galleryId, GalleryRequirement operation)
    {
        ArgumentNullException.ThrowIfNull(authorization);
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(operation);
        return (await authorization.AuthorizeAsync(user, galleryId, operation)).Succeeded;
    }
}
