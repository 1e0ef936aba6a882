using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Web.Api;

/// <summary>
/// AUTOMATIC1111's sampler names and T2I Studio's <see cref="SchedulerKind"/>, as A1111 1.9+ resolves them: a plain
/// "DPM++ 2M" with <c>scheduler</c> absent or "Automatic" runs the sampler's default schedule, Karras (as does
/// <c>scheduler: "Karras"</c>); <c>scheduler: "Uniform"</c> asks for the uniform-sigma DPM++ 2M. The combined name of
/// A1111 before 1.9 ("DPM++ 2M Karras") is accepted and is Karras whatever the scheduler, as A1111's name suffix wins.
/// </summary>
public static class A1111Samplers
{
    private const string DpmPlusPlus2M = "DPM++ 2M";

    private static readonly (SchedulerKind Kind, string Name, string[] Aliases, Dictionary<string, string> Options, bool Listed)[] Table =
    [
        (SchedulerKind.DpmPlusPlus2MKarras, DpmPlusPlus2M, ["k_dpmpp_2m"], new() { ["scheduler"] = "karras" }, true),
        (SchedulerKind.EulerAncestral, SchedulerFactory.DisplayName(SchedulerKind.EulerAncestral), ["k_euler_a", "k_euler_ancestral"], [], true),
        (SchedulerKind.Euler, SchedulerFactory.DisplayName(SchedulerKind.Euler), ["k_euler"], [], true),
        (SchedulerKind.Ddim, SchedulerFactory.DisplayName(SchedulerKind.Ddim), ["ddim"], [], true),
        (SchedulerKind.Plms, SchedulerFactory.DisplayName(SchedulerKind.Plms), ["plms"], [], true),
        (SchedulerKind.Lcm, SchedulerFactory.DisplayName(SchedulerKind.Lcm), ["k_lcm"], [], true),
        // A1111 before 1.9: not listed by 1.9+, still accepted.
        (SchedulerKind.DpmPlusPlus2MKarras, SchedulerFactory.DisplayName(SchedulerKind.DpmPlusPlus2MKarras), ["k_dpmpp_2m_ka"], [], false),
    ];

    /// <summary>Every sampler, in A1111 1.9+'s <c>samplers</c> shape ("DPM++ 2M" with its default schedule, Karras, in its options).</summary>
    public static IReadOnlyList<A1111Sampler> All { get; } =
        [.. Table.Where(t => t.Listed).Select(t => new A1111Sampler(t.Name, t.Aliases, t.Options))];

    /// <summary>
    /// The sampler <paramref name="samplerName"/> and <paramref name="scheduler"/> ask for, <paramref name="fallback"/>
    /// when no sampler is named; or the field and message of a 400.
    /// </summary>
    public static (SchedulerKind Kind, (string Field, string Message)? Problem) Resolve(string? samplerName, string? scheduler, SchedulerKind fallback)
    {
        var schedule = scheduler?.Trim().ToUpperInvariant() ?? "";
        if (string.IsNullOrWhiteSpace(samplerName))
        {
            return schedule switch
            {
                "" or "AUTOMATIC" or "UNIFORM" => (fallback, null),
                "KARRAS" when fallback is SchedulerKind.DpmPlusPlus2M or SchedulerKind.DpmPlusPlus2MKarras => (SchedulerKind.DpmPlusPlus2MKarras, null),
                _ => (fallback, Unavailable(scheduler, fallback, plainDpm: fallback is SchedulerKind.DpmPlusPlus2M or SchedulerKind.DpmPlusPlus2MKarras)),
            };
        }
        var name = samplerName.Trim();
        var known = Table.Where(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)
            || t.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase)).Select(t => (SchedulerKind?)t.Kind).FirstOrDefault();
        var plain = string.Equals(name, DpmPlusPlus2M, StringComparison.OrdinalIgnoreCase) || string.Equals(name, "k_dpmpp_2m", StringComparison.OrdinalIgnoreCase);
        var kind = known ?? SchedulerKind.DpmPlusPlus2MKarras;
        if (!plain && known is null)
        {
            if (!SchedulerFactory.TryParse(name, out kind))
            {
                return (fallback, ("sampler_name", $"There is no sampler '{name}'. Samplers: {string.Join(", ", All.Select(s => s.Name))}."));
            }
            plain = kind == SchedulerKind.DpmPlusPlus2M; // "DPM++2M", "dpmpp_2m": A1111's DPM++ 2M
        }
        if (plain)
        {
            return schedule switch
            {
                "" or "AUTOMATIC" or "KARRAS" => (SchedulerKind.DpmPlusPlus2MKarras, null),
                "UNIFORM" => (SchedulerKind.DpmPlusPlus2M, null),
                _ => (SchedulerKind.DpmPlusPlus2MKarras, Unavailable(scheduler, SchedulerKind.DpmPlusPlus2M, plainDpm: true)),
            };
        }
        return schedule switch
        {
            "" or "AUTOMATIC" or "UNIFORM" => (kind, null),
            "KARRAS" when kind is SchedulerKind.DpmPlusPlus2MKarras => (kind, null),
            _ => (kind, Unavailable(scheduler, kind, plainDpm: kind is SchedulerKind.DpmPlusPlus2MKarras)),
        };
    }

    private static (string Field, string Message) Unavailable(string? scheduler, SchedulerKind kind, bool plainDpm) =>
        ("scheduler", $"Schedule type '{scheduler}' is not available for {(plainDpm ? DpmPlusPlus2M : SchedulerFactory.DisplayName(kind))}: use Automatic{(plainDpm ? ", Uniform or Karras" : " or Uniform")}.");
}
