namespace T2IStudio.Generation.Schedulers;

/// <summary>The samplers a request can choose.</summary>
public enum SchedulerKind
{
    /// <summary>Euler ancestral ("Euler a").</summary>
    EulerAncestral,

    /// <summary>Euler.</summary>
    Euler,

    /// <summary>DDIM, η = 0.</summary>
    Ddim,

    /// <summary>DPM++ 2M.</summary>
    DpmPlusPlus2M,

    /// <summary>DPM++ 2M on Karras sigmas.</summary>
    DpmPlusPlus2MKarras,

    /// <summary>PLMS (PNDM without Runge–Kutta warm-up).</summary>
    Plms,

    /// <summary>Latent consistency (LCM models).</summary>
    Lcm,
}

/// <summary>Creates a fresh scheduler per generation (multistep schedulers keep state).</summary>
public static class SchedulerFactory
{
    /// <summary>A new scheduler of <paramref name="kind"/> on <paramref name="config"/>.</summary>
    public static Scheduler Create(SchedulerKind kind, SchedulerConfig config) => kind switch
    {
        SchedulerKind.EulerAncestral => new EulerScheduler(config, ancestral: true),
        SchedulerKind.Euler => new EulerScheduler(config),
        SchedulerKind.Ddim => new DdimScheduler(config),
        SchedulerKind.DpmPlusPlus2M => new DpmSolverMultistepScheduler(config, karras: false),
        SchedulerKind.DpmPlusPlus2MKarras => new DpmSolverMultistepScheduler(config, karras: true),
        SchedulerKind.Plms => new PndmScheduler(config),
        SchedulerKind.Lcm => new LcmScheduler(config),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown scheduler."),
    };

    /// <summary>A1111's sampler name for <paramref name="kind"/> (what PNG metadata and other tools use).</summary>
    public static string DisplayName(SchedulerKind kind) => kind switch
    {
        SchedulerKind.EulerAncestral => "Euler a",
        SchedulerKind.Euler => "Euler",
        SchedulerKind.Ddim => "DDIM",
        SchedulerKind.DpmPlusPlus2M => "DPM++ 2M",
        SchedulerKind.DpmPlusPlus2MKarras => "DPM++ 2M Karras",
        SchedulerKind.Plms => "PLMS",
        SchedulerKind.Lcm => "LCM",
        _ => kind.ToString(),
    };

    /// <summary>Parses a user-facing name: the enum name, A1111's sampler name, or a short alias.</summary>
    public static bool TryParse(string name, out SchedulerKind kind)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim().ToUpperInvariant().Replace(" ", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        (bool ok, SchedulerKind value) result = key switch
        {
            "EULERA" or "EULERANCESTRAL" => (true, SchedulerKind.EulerAncestral),
            "EULER" => (true, SchedulerKind.Euler),
            "DDIM" => (true, SchedulerKind.Ddim),
            "DPM++2M" or "DPMPP2M" or "DPMPLUSPLUS2M" or "DPMSOLVER" => (true, SchedulerKind.DpmPlusPlus2M),
            "DPM++2MKARRAS" or "DPMPP2MKARRAS" or "DPMPLUSPLUS2MKARRAS" => (true, SchedulerKind.DpmPlusPlus2MKarras),
            "PLMS" or "PNDM" => (true, SchedulerKind.Plms),
            "LCM" => (true, SchedulerKind.Lcm),
            _ => (false, default),
        };
        kind = result.value;
        return result.ok;
    }
}
