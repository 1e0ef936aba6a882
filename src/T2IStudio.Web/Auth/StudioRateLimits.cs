using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace T2IStudio.Web.Auth;

/// <summary>
/// ASP.NET Core's rate limiter on the account forms. Two named policies count POSTs per client address
/// (<see cref="SignIn"/>, <see cref="Register"/>; an endpoint opts in with <c>[EnableRateLimiting(...)]</c>, and the
/// API can reuse them); the global limiter counts the same POSTs per account, keyed by the email the form names.
/// A refused request gets 429, a <c>Retry-After</c> header and a sentence saying when to try again.
/// </summary>
public static partial class StudioRateLimits
{
    /// <summary>Sign-in attempts: <c>RateLimits:SignInPerMinutePerAddress</c> per address, <c>…PerAccount</c> per email.</summary>
    public const string SignIn = "sign-in";

    /// <summary>Registrations: <c>RateLimits:RegisterPerHourPerAddress</c> per address, <c>…PerAccount</c> per email.</summary>
    public const string Register = "register";

    /// <summary>
    /// The anonymous forms that send email ("send the confirmation link again", "forgot password"):
    /// <see cref="AccountEmailPerHourPerAddress"/> posts per address. Each account also gets at most one such email
    /// every two minutes (<see cref="Email.AccountMail"/>), so neither can be used to flood an inbox.
    /// </summary>
    public const string AccountEmail = "account-email";

    /// <summary>Posts to the email-sending forms one address may make in an hour.</summary>
    public const int AccountEmailPerHourPerAddress = 20;

    /// <summary>
    /// API requests (<c>/api/v1</c>, <c>/sdapi/v1</c>): <c>Api:RequestsPerMinutePerToken</c> per token, keyed by the
    /// SHA-256 of the bearer value (the limiter runs before authentication), and — through the global limiter —
    /// <c>Api:RequestsPerMinutePerAddress</c> per client address whatever bearer it sends, so made-up tokens buy nothing.
    /// </summary>
    public const string Api = "api";

    /// <summary>The form field that names the account on the sign-in and register forms.</summary>
    public const string AccountField = "Input.Email";

    private static readonly object AccountKey = new();

    /// <summary>Binds <see cref="RateLimitOptions"/> and registers the rate limiter with the account policies.</summary>
    public static IServiceCollection AddStudioRateLimits(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>()
            .BindConfiguration(RateLimitOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>>((options, configured) =>
        {
            var limits = configured.Value;
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.AddPolicy(SignIn, context => PerAddress(context, SignIn, limits.SignInPerMinutePerAddress, TimeSpan.FromMinutes(1)));
            options.AddPolicy(Register, context => PerAddress(context, Register, limits.RegisterPerHourPerAddress, TimeSpan.FromHours(1)));
            options.AddPolicy(AccountEmail, context => PerAddress(context, AccountEmail, AccountEmailPerHourPerAddress, TimeSpan.FromHours(1)));
            options.AddPolicy(Api, context => PerToken(context, context.RequestServices.GetRequiredService<IOptionsMonitor<Api.ApiOptions>>().CurrentValue.RequestsPerMinutePerToken));
            // Per account on the forms; per address on the API, so made-up bearer values (each its own per-token
            // partition) cannot multiply one client's allowance, nor its token lookups.
            options.GlobalLimiter = PartitionedRateLimiter.CreateChained(
                PartitionedRateLimiter.Create<HttpContext, string>(context => PerAccount(context, limits)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => PerApiAddress(context)),
                PartitionedRateLimiter.Create<HttpContext, string>(context => UploadsPerToken(context)));
            options.OnRejected = RejectAsync;
        });
        return services;
    }

    /// <summary>
    /// Reads the form of a POST to an endpoint under <see cref="SignIn"/> or <see cref="Register"/> so the rate limiter
    /// (whose partitions are chosen synchronously) can key on the account it names. Place between routing and
    /// <c>UseRateLimiter()</c>. The form stays cached for the page that handles it.
    /// </summary>
    public static IApplicationBuilder UseAccountFormKeys(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType && PolicyOf(context) is SignIn or Register)
            {
                try
                {
                    var form = await context.Request.ReadFormAsync(context.RequestAborted);
                    var email = form[AccountField].ToString().Trim();
                    if (email.Length > 0)
                    {
                        context.Items[AccountKey] = email.ToUpperInvariant();
                    }
                }
                catch (Exception ex) when (ex is InvalidDataException or BadHttpRequestException or IOException)
                {
                    // A malformed form: the page's own form handling answers it.
                }
            }
            await next(context);
        });

    private static string? PolicyOf(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<EnableRateLimitingAttribute>()?.PolicyName;

    private static string Address(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    // Only posts count: opening the form, or coming back to it, is free.
    private static RateLimitPartition<string> PerAddress(HttpContext context, string policy, int permits, TimeSpan window) =>
        HttpMethods.IsPost(context.Request.Method)
            ? RateLimitPartition.GetFixedWindowLimiter($"{policy}|{Address(context)}", _ => Window(permits, window))
            : RateLimitPartition.GetNoLimiter("");

    private static RateLimitPartition<string> PerToken(HttpContext context, int permits)
    {
        return RateLimitPartition.GetFixedWindowLimiter($"{Api}|{TokenKey(context)}", _ => Window(permits, TimeSpan.FromMinutes(1)));
    }

    /// <summary>The API routes that carry a picture to decode (the shared intake gate is small; one token must not fill it).</summary>
    private static readonly string[] UploadRoutes = ["/sdapi/v1/img2img", "/api/v1/jobs/img2img", "/api/v1/jobs/inpaint"];

    private static RateLimitPartition<string> UploadsPerToken(HttpContext context)
    {
        if (!IsUpload(context))
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        var permits = context.RequestServices.GetRequiredService<IOptionsMonitor<Api.ApiOptions>>().CurrentValue.ConcurrentUploadsPerToken;
        return RateLimitPartition.GetConcurrencyLimiter($"{Api}|uploads|{TokenKey(context)}",
            _ => new ConcurrencyLimiterOptions { PermitLimit = permits, QueueLimit = 0 });
    }

    private static bool IsUpload(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method) && UploadRoutes.Any(route => context.Request.Path.Equals(route, StringComparison.OrdinalIgnoreCase));

    private static string TokenKey(HttpContext context) =>
        Web.Api.ApiTokenAuthenticationHandler.PresentedToken(context.Request) is { Length: > 0 } token
            ? Web.Api.ApiTokenService.Hash(token)
            : "address|" + Address(context);

    private static RateLimitPartition<string> PerApiAddress(HttpContext context)
    {
        if (!Web.Api.ApiEndpoints.IsApiRequest(context))
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        var permits = context.RequestServices.GetRequiredService<IOptionsMonitor<Api.ApiOptions>>().CurrentValue.RequestsPerMinutePerAddress;
        return RateLimitPartition.GetFixedWindowLimiter($"{Api}|address|{Address(context)}", _ => Window(permits, TimeSpan.FromMinutes(1)));
    }

    private static RateLimitPartition<string> PerAccount(HttpContext context, RateLimitOptions limits)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.Items[AccountKey] is not string account)
        {
            return RateLimitPartition.GetNoLimiter("");
        }
        return PolicyOf(context) switch
        {
            SignIn => RateLimitPartition.GetFixedWindowLimiter($"{SignIn}|{account}", _ => Window(limits.SignInPerMinutePerAccount, TimeSpan.FromMinutes(1))),
            Register => RateLimitPartition.GetFixedWindowLimiter($"{Register}|{account}", _ => Window(limits.RegisterPerHourPerAccount, TimeSpan.FromHours(1))),
            _ => RateLimitPartition.GetNoLimiter(""),
        };
    }

    private static FixedWindowRateLimiterOptions Window(int permits, TimeSpan window) =>
        new() { PermitLimit = permits, Window = window, QueueLimit = 0, AutoReplenishment = true };

    private static async ValueTask RejectAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        // A window limiter says when it reopens; the picture limiter (a concurrency limiter) frees as soon as a call ends.
        var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter
            : IsUpload(context) ? TimeSpan.FromSeconds(5) : TimeSpan.FromMinutes(1);
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        if (Web.Api.ApiEndpoints.IsApiRequest(context))
        {
            LogRejected(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StudioRateLimits)), Api, Address(context), seconds);
            await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests.",
                detail: $"More requests came with this token, or from this address, than the limits allow (or more pictures at once than one token may send). Try again in {seconds} seconds.").ExecuteAsync(context);
            return;
        }
        context.Response.ContentType = "text/plain; charset=utf-8";
        LogRejected(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(StudioRateLimits)), PolicyOf(context) ?? "global", Address(context), seconds);
        var when = seconds < 120 ? $"{seconds} seconds" : $"{(int)Math.Ceiling(seconds / 60.0)} minutes";
        await context.Response.WriteAsync($"Too many attempts from here or for this account. Try again in {when}.", cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit {Policy} refused a request from {Address}; retry after {Seconds} s")]
    private static partial void LogRejected(ILogger logger, string policy, string address, int seconds);
}
