using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.EntityFrameworkCore;
using OpenTelemetry.Metrics;
using T2IStudio.Data;
using T2IStudio.Web.Access;
using T2IStudio.Web.Api;

namespace T2IStudio.Web.Telemetry;

/// <summary>
/// OpenTelemetry for the web host: the studio's meter, ASP.NET Core's and the runtime's, exported at
/// <see cref="TelemetryOptions.ScrapePath"/> for admins when <c>Telemetry:Prometheus</c> is on; and the circuit count.
/// </summary>
public static class TelemetryRegistration
{
    /// <summary>Binds <see cref="TelemetryOptions"/>, counts circuits, and (when Prometheus is on) adds the meter provider and its exporter.</summary>
    public static WebApplicationBuilder AddStudioTelemetry(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<TelemetryOptions>()
            .BindConfiguration(TelemetryOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddScoped<CircuitHandler, CircuitCounter>();
        // Decided as the host is built (as the company sign-in is): off, no meter provider exists and nothing is measured.
        if (builder.Configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() is { Prometheus: true })
        {
            services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(StudioMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                // One scraper (an admin's Prometheus) at its own interval: a cached answer would only hide the latest values.
                .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0));
        }
        return builder;
    }

    /// <summary>
    /// Maps <see cref="TelemetryOptions.ScrapePath"/>: the Prometheus exporter behind an admin-only gate when on, 404
    /// for everyone when off. Anyone who is not an admin gets the same 404 as when it is off (DESIGN.md §7: what
    /// someone may not see answers 404), so the route tells nothing about the server to those it is not for.
    /// </summary>
    public static IEndpointRouteBuilder MapStudioMetrics(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // On exactly when the meter provider was registered (AddStudioTelemetry read the setting then).
        if (app.ServiceProvider.GetService<MeterProvider>() is null)
        {
            // Mapped all the same: unmapped, the fallback policy would send a signed-out visitor to the sign-in page.
            app.Map(TelemetryOptions.ScrapePath, NotFound).AllowAnonymous().ExcludeFromDescription();
            return app;
        }
        // Anonymous to the fallback policy (a scraper has no cookie to be redirected with); the gate decides.
        app.MapPrometheusScrapingEndpoint(TelemetryOptions.ScrapePath, meterProvider: null, configureBranchedPipeline: branch => branch.Use(AdminsOnlyAsync), optionsName: null)
            .AllowAnonymous();
        return app;
    }

    /// <summary>
    /// Lets an admin through: by their API token when the request carries <c>Authorization: Bearer</c> (the token
    /// alone decides then), else by their session cookie. The Admin role is read from the database, not from claims,
    /// so a token (which carries no roles) and a demoted admin's old cookie are judged alike.
    /// </summary>
    private static async Task AdminsOnlyAsync(HttpContext context, RequestDelegate next)
    {
        string? userId;
        if (ApiTokenAuthenticationHandler.PresentedToken(context.Request) is { Length: > 0 })
        {
            var token = await context.AuthenticateAsync(ApiTokenClaims.Scheme);
            userId = token is { Succeeded: true, Principal: { } principal } ? ResourceAccess.UserId(principal) : null;
        }
        else
        {
            userId = context.User.Identity?.IsAuthenticated == true ? ResourceAccess.UserId(context.User) : null;
        }
        if (userId is null || !await IsAdminAsync(context, userId))
        {
            await NotFound(context);
            return;
        }
        await next(context);
    }

    // A bare 404, not the app's not-found page: that page asks a signed-out visitor to sign in (a 302), which would
    // tell a prober the route is there.
    private static Task NotFound(HttpContext context)
    {
        if (context.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
        {
            statusPages.Enabled = false;
        }
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    private static async Task<bool> IsAdminAsync(HttpContext context, string userId)
    {
        var factory = context.RequestServices.GetRequiredService<IDbContextFactory<AppDbContext>>();
        await using var db = await factory.CreateDbContextAsync(context.RequestAborted);
        return await db.AdminUserIds().AnyAsync(id => id == userId, context.RequestAborted);
    }
}
