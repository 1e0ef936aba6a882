namespace T2IStudio.Web.Cluster;

/// <summary>This web node: a fresh id every start (so a restarted node is a new one), and a name for people.</summary>
/// <param name="Id">32 hex digits, new for each process.</param>
/// <param name="Name">From <c>Cluster:NodeName</c>, else the machine name.</param>
public sealed record ClusterNode(string Id, string Name);

/// <summary>How this node is linked to the others.</summary>
public enum ClusterLinkState
{
    /// <summary>No <c>ConnectionStrings:Redis</c>: a single node, everything in process.</summary>
    Alone,

    /// <summary>Connected to Redis: events and shared state reach the other nodes.</summary>
    Connected,

    /// <summary>Redis is configured but unreachable: this node serves its own circuits and reconnects by itself.</summary>
    Lost,
}

/// <summary>The link's state now.</summary>
/// <param name="State">Alone, connected or lost.</param>
/// <param name="Since">When it entered that state (null while alone).</param>
/// <param name="Problem">Why it is lost, in words (null otherwise).</param>
public sealed record ClusterStatus(ClusterLinkState State, DateTimeOffset? Since, string? Problem)
{
    /// <summary>A node on its own.</summary>
    public static ClusterStatus Alone { get; } = new(ClusterLinkState.Alone, null, null);
}

/// <summary>One node's copy of a piece of shared state (see <see cref="IClusterBus.ShareStateAsync"/>).</summary>
/// <param name="Node">The node that wrote it.</param>
/// <param name="Json">What it wrote.</param>
/// <param name="ExpiresAt">When it stops counting unless the node writes it again.</param>
public sealed record NodeState(ClusterNode Node, string Json, DateTimeOffset ExpiresAt);

/// <summary>The channels nodes talk on; each carries one message type.</summary>
public static class ClusterChannels
{
    /// <summary><see cref="Realtime.StudioEvent"/>s for people's pages (jobs, galleries, teams, comments, presence).</summary>
    public const string Events = "events";

    /// <summary>The queue changed (a job was queued, cancelled, finished): waiting workers look again.</summary>
    public const string Queue = "queue";

    /// <summary>An account's access changed (disabled, enabled, deleted, security stamp): drop cached answers.</summary>
    public const string Access = "access";

    /// <summary>A worker key was revoked: every node disconnects the workers that joined with it.</summary>
    public const string WorkerKeys = "worker-keys";
}

/// <summary>The names of shared state each node writes (see <see cref="IClusterBus.ShareStateAsync"/>).</summary>
public static class ClusterStates
{
    /// <summary>The workers connected to a node.</summary>
    public const string Workers = "workers";

    /// <summary>Who is looking at which gallery on a node.</summary>
    public const string Presence = "presence";
}

/// <summary>
/// What web nodes share: messages to every other node, and per-node state with an expiry that every node can
/// read. Without Redis (<see cref="ClusterLinkState.Alone"/>) there are no other nodes: published messages go
/// nowhere and shared state is this node's own. While Redis is lost, messages are dropped (each node's own
/// circuits are served from its own process) and reads fall back to this node's own state.
/// </summary>
public interface IClusterBus
{
    /// <summary>This node.</summary>
    ClusterNode Node { get; }

    /// <summary>The link's state now.</summary>
    ClusterStatus Status { get; }

    /// <summary>Calls <paramref name="handler"/> whenever <see cref="Status"/> changes, until disposed.</summary>
    IDisposable OnStatusChanged(Func<ClusterStatus, Task> handler);

    /// <summary>Sends <paramref name="message"/> (serialised as JSON) to every other node; never to this one. Never throws.</summary>
    void Publish<T>(string channel, T message) where T : class;

    /// <summary>Calls <paramref name="handler"/> for each message another node publishes on <paramref name="channel"/>, until disposed.</summary>
    IDisposable Subscribe<T>(string channel, Func<T, Task> handler) where T : class;

    /// <summary>Writes this node's value of <paramref name="name"/>; it counts for <paramref name="lifetime"/> unless written again.</summary>
    Task ShareStateAsync(string name, string json, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>Every live node's value of <paramref name="name"/> (this node's included); only this node's while Redis is lost.</summary>
    /// <exception cref="ClusterUnavailableException">
    /// Redis is linked but this read failed: the answer would be this node's own state only, which a caller must not
    /// take for the whole cluster's (a worker directory that did would think other nodes' models gone).
    /// </exception>
    Task<IReadOnlyList<NodeState>> ReadStatesAsync(string name, CancellationToken cancellationToken = default);
}

/// <summary>The message on <see cref="ClusterChannels.Queue"/>: something in the queue changed; read it again.</summary>
public sealed record QueueSignal
{
    /// <summary>The one value (the message carries no data).</summary>
    public static QueueSignal Instance { get; } = new();
}

/// <summary>The message on <see cref="ClusterChannels.Access"/>: an account may (or may no longer) act; replace cached answers.</summary>
/// <param name="UserId">The account.</param>
/// <param name="Allowed">Whether it exists and is not disabled.</param>
public sealed record AccessSignal(string UserId, bool Allowed);

/// <summary>A read of the other nodes' state failed although Redis counts as linked; try again later.</summary>
public sealed class ClusterUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
