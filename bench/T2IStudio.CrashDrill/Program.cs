using System.Globalization;
using T2IStudio.CrashDrill;

// The kill -9 drill: N cycles of start the app, submit jobs and inpaints, SIGKILL at a random moment, recover,
// check. Exits 0 when every cycle held, 1 on any violation, 2 on bad arguments.
//   dotnet run -c Release --project bench/T2IStudio.CrashDrill -- [--cycles 100] [--seed 1] [--max-kill-ms 8000] [--minutes M] [--keep]
// One kill in five lands within 5 s of launch (start-up and recovery); the others within --max-kill-ms of the
// child's first acknowledged submit. --minutes stops starting cycles after M minutes.
// The same program is its own child: "work --storage DIR --seed N" hosts the app and submits (printing
// "ACK <jobId>" only after SubmitAsync returned the id); "recover --storage DIR" runs the start-up recovery alone.

string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

try
{
    return args.FirstOrDefault() switch
    {
        "work" => await DrillChild.WorkAsync(Arg("--storage", ""), IntArg("--seed", 1), drain: args.Contains("--drain")),
        "recover" => await DrillChild.RecoverAsync(Arg("--storage", "")),
        _ => await Drill.RunAsync(new DrillOptions
        {
            Cycles = IntArg("--cycles", 20),
            Seed = IntArg("--seed", 1),
            MaxKillMilliseconds = IntArg("--max-kill-ms", 8000),
            Minutes = IntArg("--minutes", 0),
            KeepStorage = args.Contains("--keep"),
        }, Console.Out),
    };
}
catch (FormatException)
{
    Console.Error.WriteLine("usage: T2IStudio.CrashDrill [--cycles N] [--seed N] [--max-kill-ms N] [--minutes M] [--keep]");
    return 2;
}
