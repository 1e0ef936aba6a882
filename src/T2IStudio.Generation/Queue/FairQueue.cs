namespace T2IStudio.Generation.Queue;

/// <summary>
/// Waiting jobs in the order they run: round-robin across owners, first in first out within an owner.
/// An owner who queues a thousand jobs delays a newcomer's first job by at most one job. Thread-safe.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "It is a queue; the product calls it one.")]
public sealed class FairQueue
{
    private readonly Lock _gate = new();

    // Owners with waiting jobs, in the order their turns come; the head goes next.
    private readonly LinkedList<string> _rotation = new();
    private readonly Dictionary<string, (LinkedListNode<string> Turn, LinkedList<Guid> Jobs)> _owners = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, (string Owner, LinkedListNode<Guid> Node)> _jobs = [];

    /// <summary>Jobs waiting.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _jobs.Count;
            }
        }
    }

    /// <summary>Adds <paramref name="job"/> at the end of <paramref name="owner"/>'s line; a new owner takes the last turn.</summary>
    /// <returns>False when the job is already waiting.</returns>
    public bool Enqueue(Guid job, string owner)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        lock (_gate)
        {
            if (_jobs.ContainsKey(job))
            {
                return false;
            }
            if (!_owners.TryGetValue(owner, out var line))
            {
                line = (_rotation.AddLast(owner), new LinkedList<Guid>());
                _owners[owner] = line;
            }
            _jobs[job] = (owner, line.Jobs.AddLast(job));
            return true;
        }
    }

    /// <summary>Takes the next job: the oldest of the owner whose turn it is; that owner goes to the back.</summary>
    public bool TryDequeue(out Guid job, out string owner)
    {
        lock (_gate)
        {
            if (_rotation.First is not { } turn)
            {
                (job, owner) = (Guid.Empty, "");
                return false;
            }
            owner = turn.Value;
            var jobs = _owners[owner].Jobs;
            job = jobs.First!.Value;
            jobs.RemoveFirst();
            _jobs.Remove(job);
            _rotation.Remove(turn);
            if (jobs.Count == 0)
            {
                _owners.Remove(owner);
            }
            else
            {
                _rotation.AddLast(turn);
            }
            return true;
        }
    }

    /// <summary>Takes <paramref name="job"/> out of the line (a cancelled job); false when it is not waiting.</summary>
    public bool Remove(Guid job)
    {
        lock (_gate)
        {
            if (!_jobs.Remove(job, out var entry))
            {
                return false;
            }
            var line = _owners[entry.Owner];
            line.Jobs.Remove(entry.Node);
            if (line.Jobs.Count == 0)
            {
                _rotation.Remove(line.Turn);
                _owners.Remove(entry.Owner);
            }
            return true;
        }
    }

    /// <summary>How many waiting jobs run before <paramref name="job"/> (0: it runs next); null when it is not waiting.</summary>
    public int? PositionOf(Guid job)
    {
        lock (_gate)
        {
            if (!_jobs.TryGetValue(job, out var entry))
            {
                return null;
            }
            var depth = 0; // jobs ahead of it in its own line
            for (var node = _owners[entry.Owner].Jobs.First; node != entry.Node; node = node!.Next)
            {
                depth++;
            }
            // Rounds: in round r every owner with more than r jobs runs its r-th job, owners in turn order.
            var ahead = depth;
            var beforeInTurn = true;
            foreach (var owner in _rotation)
            {
                if (owner == entry.Owner)
                {
                    beforeInTurn = false;
                    continue;
                }
                var count = _owners[owner].Jobs.Count;
                ahead += Math.Min(count, beforeInTurn ? depth + 1 : depth);
            }
            return ahead;
        }
    }

    /// <summary>Every waiting job in the order the queue will hand them out.</summary>
    public IReadOnlyList<Guid> Snapshot()
    {
        lock (_gate)
        {
            var lines = _rotation.Select(o => _owners[o].Jobs.First).ToArray();
            var order = new List<Guid>(_jobs.Count);
            while (order.Count < _jobs.Count)
            {
                for (var i = 0; i < lines.Length; i++)
                {
                    if (lines[i] is { } node)
                    {
                        order.Add(node.Value);
                        lines[i] = node.Next;
                    }
                }
            }
            return order;
        }
    }
}
