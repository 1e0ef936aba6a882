using System.Diagnostics;
using Microsoft.Data.Sqlite;
using T2IStudio.Data;
using T2IStudio.Data.Entities;
using T2IStudio.Web.Jobs;

namespace T2IStudio.CrashDrill;

/// <summary>How the drill runs.</summary>
internal sealed record DrillOptions
{
    /// <summary>Kill-and-restart cycles.</summary>
    public int Cycles { get; init; } = 20;

    /// <summary>Seeds the kill moments and the child's submissions.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The kill comes at a uniformly random moment in [0, this) after the child's first acknowledged submit.</summary>
    public int MaxKillMilliseconds { get; init; } = 8000;

    /// <summary>Start no new cycle after this many minutes (0: run all <see cref="Cycles"/>).</summary>
    public int Minutes { get; init; }

    /// <summary>Leave the storage root behind (its path is printed).</summary>
    public bool KeepStorage { get; init; }
}

/// <summary>
/// The parent: runs the cycles, SIGKILLs the child, runs recovery in a fresh child, and checks the storage root
/// with its own SQLite connection (not the app's code): acknowledged jobs, dangling rows, orphan files, integrity.
/// </summary>
internal static class Drill
{
    /// <summary>Kills meant for start-up land in this many milliseconds after launch (the app takes a few seconds to start).</summary>
    private const int StartWindowMilliseconds = 5000;

    public static async Task<int> RunAsync(DrillOptions options, TextWriter output)
    {
        var storage = Directory.CreateTempSubdirectory("t2i-crashdrill-").FullName;
        var random = new Random(options.Seed);
        var acked = new HashSet<Guid>();
        var totals = new Totals();
        var clock = Stopwatch.StartNew();
        output.WriteLine($"crash drill: {options.Cycles} cycles, seed {options.Seed}, kill within {options.MaxKillMilliseconds} ms of the first ACK (one in five within {StartWindowMilliseconds} ms of launch), storage {storage}");
        try
        {
            var cycles = 0;
            for (var cycle = 1; cycle <= options.Cycles; cycle++)
            {
                if (options.Minutes > 0 && clock.Elapsed >= TimeSpan.FromMinutes(options.Minutes))
                {
                    break;
                }
                cycles = cycle;
                // One kill in five lands while the app starts (recovery included); the rest once it serves and has taken a job.
                var duringStart = random.Next(5) == 0;
                var killAfter = random.Next(duringStart ? StartWindowMilliseconds : options.MaxKillMilliseconds);
                var launched = Stopwatch.StartNew();
                var run = await RunChildAsync(["work", "--storage", storage, "--seed", random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture)], killAfter, afterFirstAck: !duringStart);
                var newAcks = run.Lines.Where(l => l.StartsWith("ACK ", StringComparison.Ordinal)).Select(l => Guid.Parse(l[4..])).ToList();
                acked.UnionWith(newAcks);
                if (run.Lines.FirstOrDefault(l => l.StartsWith("REFUSED", StringComparison.Ordinal)) is { } refusal)
                {
                    output.WriteLine($"cycle {cycle}: the child was refused: {refusal}");
                    totals.Violations++;
                }
                if (!run.Killed)
                {
                    output.WriteLine($"cycle {cycle}: the child exited on its own ({run.ExitCode}) before the kill:\n{run.Tail}");
                    totals.Violations++;
                }
                // The app's own start-up recovery, in this process (warm, so a cycle is cheaper than a third process).
                var killedAt = launched.Elapsed;
                var report = await DrillChild.RecoverInProcessAsync(storage);
                totals.AddRequeued(report.Requeued);
                totals.Swept += report.OrphansRemoved;
                var check = Check(storage, acked);
                totals.Add(check);
                output.WriteLine($"cycle {cycle,3}: killed {killAfter,5} ms after {(duringStart ? "launch" : "1st ACK")} ({(run.Ready ? "serving" : "starting")}), +{newAcks.Count} acknowledged; ran {killedAt.TotalSeconds:0.0} s, recovered in {(launched.Elapsed - killedAt).TotalSeconds:0.0} s: re-queued {report.Requeued}, swept {report.OrphansRemoved} file(s); {check}");
            }

            // Last, let the app finish what is left: every acknowledged job must end Completed (or failed as interrupted twice).
            var drained = await RunChildAsync(["work", "--storage", storage, "--seed", "0", "--drain"], killAfterMs: null, limit: TimeSpan.FromMinutes(10));
            var final = Check(storage, acked);
            if (drained.ExitCode != 0 || final.Queued > 0 || final.Violations > 0)
            {
                output.WriteLine($"drain: exit {drained.ExitCode}; {final}\n{drained.Tail}");
                totals.Violations++;
            }
            output.WriteLine($"drained: {final}");
            output.WriteLine($"TOTAL cycles={cycles} acknowledged={acked.Count} completed={final.Completed} requeued-at-kill={totals.RequeuedAtKill} interrupted-twice={final.Interrupted} lost={totals.Lost} stuck-running={totals.StuckRunning} dangling-rows={totals.Dangling} orphan-files={totals.Orphans} integrity-failures={totals.IntegrityFailures} violations={totals.Violations + totals.CheckViolations} inpaints={final.Inpaints} orphans-swept-by-recovery={totals.Swept} wall={clock.Elapsed.TotalSeconds:0}s");
            return totals.Violations + totals.CheckViolations == 0 ? 0 : 1;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (options.KeepStorage)
            {
                output.WriteLine($"storage kept at {storage}");
            }
            else
            {
                Directory.Delete(storage, recursive: true);
            }
        }
    }

    /// <summary>What one check found.</summary>
    internal sealed record CheckResult(int Completed, int Queued, int Interrupted, int FailedOtherwise, int Lost, int StuckRunning, int Dangling, int Orphans, bool IntegrityOk, IReadOnlyList<string> Problems)
    {
        /// <summary>Acknowledged jobs that are inpaints (a stored source and mask).</summary>
        public int Inpaints { get; init; }

        public int Violations => Lost + StuckRunning + Dangling + Orphans + FailedOtherwise + (IntegrityOk ? 0 : 1);

        public override string ToString() =>
            $"completed {Completed}, queued {Queued}, interrupted-twice {Interrupted}, failed {FailedOtherwise}, lost {Lost}, running {StuckRunning}, dangling {Dangling}, orphans {Orphans}, integrity {(IntegrityOk ? "ok" : "FAILED")}"
            + (Problems.Count > 0 ? "\n    " + string.Join("\n    ", Problems.Take(10)) : "");
    }

    /// <summary>Reads the storage root after recovery: the invariants a crash must never break.</summary>
    internal static CheckResult Check(string storage, IReadOnlySet<Guid> acked)
    {
        var problems = new List<string>();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(storage, StorageOptions.DatabaseFileName),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        var integrity = Scalar(connection, "PRAGMA integrity_check;");
        var jobs = new Dictionary<Guid, (JobStatus Status, string? Error, Guid? Source, Guid? Mask)>();
        // (Source and Mask name an inpainting job's stored files.)
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT Id, Status, Error, SourceFileKey, MaskFileKey FROM Jobs;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                jobs[Guid.Parse(reader.GetString(0))] = ((JobStatus)reader.GetInt32(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : Guid.Parse(reader.GetString(3)), reader.IsDBNull(4) ? null : Guid.Parse(reader.GetString(4)));
            }
        }
        var images = new List<(Guid Id, Guid File, Guid? Mask)>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT Id, FileKey, MaskFileKey FROM Images;";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                images.Add((Guid.Parse(reader.GetString(0)), Guid.Parse(reader.GetString(1)), reader.IsDBNull(2) ? null : Guid.Parse(reader.GetString(2))));
            }
        }

        int completed = 0, queued = 0, interrupted = 0, failed = 0, lost = 0, running = 0;
        foreach (var id in acked)
        {
            if (!jobs.TryGetValue(id, out var job))
            {
                lost++;
                problems.Add($"acknowledged job {id} has no row");
                continue;
            }
            switch (job.Status)
            {
                case JobStatus.Completed: completed++; break;
                case JobStatus.Queued: queued++; break;
                case JobStatus.Running: running++; problems.Add($"job {id} is still Running after recovery"); break;
                case JobStatus.Failed when job.Error == JobLifecycle.InterruptedError: interrupted++; break;
                default: failed++; problems.Add($"job {id} is {job.Status}: {job.Error}"); break;
            }
        }
        // Every job is checked for Running, acknowledged or not (a kill can land between the commit and the ACK line).
        running += jobs.Count(j => j.Value.Status == JobStatus.Running && !acked.Contains(j.Key));

        var root = Path.Combine(storage, "images");
        string PathOf(Guid key) => Path.Combine(root, key.ToString("N")[..2], key.ToString("N") + ".png");
        string ThumbOf(Guid key) => Path.Combine(root, key.ToString("N")[..2], key.ToString("N") + ".thumb.webp");
        var dangling = 0;
        foreach (var image in images)
        {
            foreach (var path in new[] { PathOf(image.File), ThumbOf(image.File) }.Concat(image.Mask is { } m ? [PathOf(m)] : []))
            {
                if (!File.Exists(path))
                {
                    dangling++;
                    problems.Add($"image {image.Id} names {Path.GetFileName(path)}, which is missing");
                }
            }
        }
        // A job still to run needs its inpainting source and mask (a finished one may have let them go).
        foreach (var (id, job) in jobs.Where(j => j.Value.Status is JobStatus.Queued or JobStatus.Running))
        {
            foreach (var key in new[] { job.Source, job.Mask }.OfType<Guid>())
            {
                if (!File.Exists(PathOf(key)))
                {
                    dangling++;
                    problems.Add($"waiting job {id} names {key:N}.png, which is missing");
                }
            }
        }

        var referenced = new HashSet<Guid>(images.Select(i => i.File));
        referenced.UnionWith(images.Select(i => i.Mask).OfType<Guid>());
        referenced.UnionWith(jobs.Values.SelectMany(j => new[] { j.Source, j.Mask }).OfType<Guid>());
        var orphans = 0;
        if (Directory.Exists(root))
        {
            foreach (var path in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            {
                var name = Path.GetFileName(path);
                if (name.EndsWith(".tmp", StringComparison.Ordinal) || !Guid.TryParseExact(name.Split('.')[0], "N", out var key) || !referenced.Contains(key))
                {
                    orphans++;
                    problems.Add($"file {name} has no row");
                }
            }
        }
        var inpaints = acked.Count(id => jobs.TryGetValue(id, out var job) && job.Source is not null);
        return new CheckResult(completed, queued, interrupted, failed, lost, running, dangling, orphans, integrity == "ok", problems) { Inpaints = inpaints };
    }

    private static string? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }

    private sealed record ChildRun(IReadOnlyList<string> Lines, bool Killed, bool Ready, int ExitCode, string Tail);

    /// <summary>
    /// Runs this program as a child; with <paramref name="killAfterMs"/>, SIGKILLs it that long after it started
    /// (or, with <paramref name="afterFirstAck"/>, after its first acknowledged submit: the app serves and works).
    /// </summary>
    private static async Task<ChildRun> RunChildAsync(string[] arguments, int? killAfterMs, TimeSpan? limit = null, bool afterFirstAck = false)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) is "dotnet")
        {
            start.ArgumentList.Add(typeof(Drill).Assembly.Location);
        }
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.Environment["DOTNET_gcServer"] = "0";
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var errors = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var working = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (lines)
                {
                    lines.Add(line);
                }
                if (line == "READY")
                {
                    ready.TrySetResult();
                }
                else if (line.StartsWith("ACK ", StringComparison.Ordinal))
                {
                    working.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (errors)
                {
                    errors.Add(line);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var killed = false;
        if (killAfterMs is { } delay)
        {
            var waitExit = process.WaitForExitAsync();
            if (afterFirstAck)
            {
                await Task.WhenAny(waitExit, working.Task, Task.Delay(TimeSpan.FromMinutes(2)));
            }
            if (await Task.WhenAny(waitExit, Task.Delay(delay)) != waitExit)
            {
                process.Kill(entireProcessTree: false); // SIGKILL on Linux and macOS: no shutdown code runs
                killed = true;
            }
        }
        using (var timeout = new CancellationTokenSource(limit ?? TimeSpan.FromMinutes(2)))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        process.WaitForExit(); // drains the redirected streams
        lock (lines)
        {
            var tail = string.Join("\n", lines.TakeLast(5).Concat(errors.TakeLast(20)));
            return new ChildRun([.. lines], killed, ready.Task.IsCompleted, process.ExitCode, tail);
        }
    }

    private sealed class Totals
    {
        public int Violations { get; set; }

        public int CheckViolations { get; private set; }

        public int Lost { get; private set; }

        public int StuckRunning { get; private set; }

        public int Dangling { get; private set; }

        public int Orphans { get; private set; }

        public int IntegrityFailures { get; private set; }

        public int RequeuedAtKill { get; private set; }

        public int Swept { get; set; }

        public void Add(CheckResult check)
        {
            CheckViolations += check.Violations;
            Lost += check.Lost;
            StuckRunning += check.StuckRunning;
            Dangling += check.Dangling;
            Orphans += check.Orphans;
            IntegrityFailures += check.IntegrityOk ? 0 : 1;
        }

        public void AddRequeued(int requeued) => RequeuedAtKill += requeued;
    }
}
