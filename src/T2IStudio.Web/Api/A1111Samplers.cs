using T2IStudio.Generation.Schedulers;

namespace T2IStudio.Web.Api;

/// <summary>
/// AUTOMATIC1111's sampler names and T2I Studio's <see cref="SchedulerKind"/>: the combined names of A1111 before 1.9
/// ("DPM++ 2M Karras") and 1.9+'s split form (<c>sampler_name: "DPM++ 2M"</c> with <c>scheduler: "Karras"</c>).
/// A plain "DPM++ 2M" is the uniform-sigma sampler (the name T2I Studio shows), although A1111 1.9+ runs its
/// "Automatic" schedule as Karras; send <c>scheduler: "Karras"</c> or the combined name for that.
/// </summary>
public static class A1111Samplers
{
    private static readonly (SchedulerKind Kind, string[] Aliases, Dictionary<string, string> Options)[] Table =
    [
        (SchedulerKind.DpmPlusPlus2MKarras, ["k_dpmpp_2m_ka"], new() { ["scheduler"] = "karras" }),
        (SchedulerKind.DpmPlusPlus2M, ["k_dpmpp_2m"], []),
        (SchedulerKind.EulerAncestral, ["k_euler_a", "k_euler_ancestral"], []),
        (SchedulerKind.Euler, ["k_euler"], []),
        (SchedulerKind.Ddim, ["ddim"], []),
        (SchedulerKind.Plms, ["plms"], []),
        (SchedulerKind.Lcm, ["k_lcm"], []),
    ];

    /// <summary>Every sampler, in A1111's <c>samplers</c> shape.</summary>
    public static IReadOnlyList<A1111Sampler> All { get; } =
        [.. Table.Select(t => new A1111Sampler(SchedulerFactory.DisplayName(t.Kind), t.Aliases, t.Options))];

    /// <summary>
    /// The sampler <paramref name="samplerName"/> and <paramref name="scheduler"/> ask for, <paramref name="fallback"/>
    /// when no sampler is named; or the field and message of a 400.
    /// </summary>
    public static (SchedulerKind Kind, (string Field, string Message)? Problem) Resolve(string? samplerName, string? scheduler, SchedulerKind fallback)
    {
        var kind = fallback;
        if (!string.IsNullOrWhiteSpace(samplerName))
        {
            var name = samplerName.Trim();
            var known = Table.Where(t => string.Equals(SchedulerFactory.DisplayName(t.Kind), name, StringComparison.OrdinalIgnoreCase)
                || t.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase)).Select(t => (SchedulerKind?)t.Kind).FirstOrDefault();
            if (known is { } found)
            {
                kind = found;
            }
            else if (!SchedulerFactory.TryParse(name, out kind))
            {
                return (fallback, ("sampler_name", $"There is no sampler '{name}'. Samplers: {string.Join(", ", All.Select(s => s.Name))}."));
            }
        }
        switch (scheduler?.Trim().ToUpperInvariant())
        {
            case null or "" or "AUTOMATIC" or "UNIFORM":
                return (kind, null);
            case "KARRAS" when kind is SchedulerKind.DpmPlusPlus2M or SchedulerKind.DpmPlusPlus2MKarras:
                return (SchedulerKind.DpmPlusPlus2MKarras, null);
            default:
                return (kind, ("scheduler", $"Schedule type '{scheduler}' is not available for {SchedulerFactory.DisplayName(kind)}: use Automatic{(kind == SchedulerKind.DpmPlusPlus2M ? ", Uniform or Karras" : " or Uniform")}."));
        }
    }
}
