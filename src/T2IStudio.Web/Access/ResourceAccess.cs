using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
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

/// <summary>The owner may do anything with their own rows; nobody else may do anything (teams extend this).</summary>
public sealed class OwnerAccessHandler : AuthorizationHandler<OperationAuthorizationRequirement, IOwnedResource>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OperationAuthorizationRequirement requirement, IOwnedResource resource)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(resource);
        if (context.User.FindFirstValue(ClaimTypes.NameIdentifier) is { Length: > 0 } userId
            && string.Equals(userId, resource.OwnerId, StringComparison.Ordinal))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
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
