using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using StackExchange.Redis;

namespace T2IStudio.Web.Cluster;

/// <summary>
/// Nodes linked through Redis (<c>ConnectionStrings:Redis</c>): messages over pub/sub (one ordered queue per
/// channel, so a job's progress never overtakes its completion), shared state in one hash per name (a field per
/// node, each with its own expiry). StackExchange.Redis reconnects by itself and re-subscribes; while Redis is
/// away, messages are dropped and reads fall back to this node's own state, so the node keeps serving its circuits.
/// </summary>
public sealed partial class RedisClusterBus : IClusterBus, IAsyncDisposable, IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // ARGV holds field, value pairs: a field is deleted only while it still holds that value.
    private const string DeleteIfUnchanged = """
        local deleted = 0
        for i = 1, #ARGV, 2 do
          if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
            deleted = deleted + redis.call('HDEL', KEYS[1], ARGV[i])
          end
        end
        return deleted
        """;

    private readonly ConnectionMultiplexer _redis;
    private readonly string _prefix;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisClusterBus> _logger;
    private readonly ConcurrentDictionary<string, NodeState> _ownStates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ChannelListeners> _channels = new(StringComparer.Ordinal);
    private readonly Lock _statusGate = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly List<Func<ClusterStatus, Task>> _statusHandlers = [];
    private ClusterStatus _status;
    private int _publishFailuresLogged;

    /// <summary>Connects (without waiting for Redis to answer: a node starts even while Redis is down).</summary>
    public RedisClusterBus(ClusterNode node, string connectionString, string prefix, TimeProvider time, ILogger<RedisClusterBus> logger)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        Node = node;
        _prefix = prefix;
        _time = time;
        _logger = logger;
        var options = ConfigurationOptions.Parse(connectionString);
        options.AbortOnConnectFail = false;
        options.ClientName = "t2istudio-" + node.Id[..8];
        options.ConnectRetry = int.Max(options.ConnectRetry, 3);
        options.ReconnectRetryPolicy = new ExponentialRetry(250, 5_000);
        _redis = ConnectionMultiplexer.Connect(options);
        _status = _redis.IsConnected
            ? new ClusterStatus(ClusterLinkState.Connected, time.GetUtcNow(), null)
            : new ClusterStatus(ClusterLinkState.Lost, time.GetUtcNow(), $"Redis at {Endpoints(options)} did not answer.");
        if (_status.State == ClusterLinkState.Lost)
        {
            LogNotReachable(_status.Problem!);
        }
        _redis.ConnectionFailed += (_, e) => SetStatus(ClusterLinkState.Lost, $"Redis connection lost ({e.FailureType}): {e.Exception?.Message ?? "no answer"}");
        _redis.ConnectionRestored += (_, _) => SetStatus(ClusterLinkState.Connected, null);
    }

    /// <inheritdoc />
    public ClusterNode Node { get; }

    /// <inheritdoc />
    public ClusterStatus Status
    {
        get
        {
            lock (_statusGate)
            {
                return _status;
            }
        }
    }

    /// <inheritdoc />
    public IDisposable OnStatusChanged(Func<ClusterStatus, Task> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_statusGate)
        {
            _statusHandlers.Add(handler);
        }
        return new Unsubscriber(() =>
        {
            lock (_statusGate)
            {
                _statusHandlers.Remove(handler);
            }
        });
    }

    /// <inheritdoc />
    public void Publish<T>(string channel, T message) where T : class
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            var envelope = JsonSerializer.SerializeToUtf8Bytes(new Envelope(Node.Id, JsonSerializer.SerializeToElement(message, Json)), Json);
            _redis.GetSubscriber().Publish(ChannelOf(channel), envelope, CommandFlags.FireAndForget);
            Interlocked.Exchange(ref _publishFailuresLogged, 0);
        }
        catch (Exception ex) when (ex is RedisException or ObjectDisposedException or TimeoutException or NotSupportedException or JsonException)
        {
            // Redis is away (or the message cannot be written as JSON): other nodes miss this one; this node's own
            // circuits were told in process already, and the caller goes on.
            if (Interlocked.Exchange(ref _publishFailuresLogged, 1) == 0)
            {
                LogPublishFailed(ex, channel);
            }
        }
    }

    /// <inheritdoc />
    public IDisposable Subscribe<T>(string channel, Func<T, Task> handler) where T : class
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(handler);
        var listener = new Listener(element => element.Deserialize<T>(Json) is { } message ? handler(message) : Task.CompletedTask);
        var listeners = _channels.GetOrAdd(channel, name => new ChannelListeners(this, name));
        listeners.Add(listener);
        return new Unsubscriber(() => listeners.Remove(listener));
    }

    /// <inheritdoc />
    public async Task ShareStateAsync(string name, string json, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(json);
        var state = new NodeState(Node, json, _time.GetUtcNow() + lifetime);
        _ownStates[name] = state;
        try
        {
            await _redis.GetDatabase().HashSetAsync(StateKey(name), Node.Id, JsonSerializer.Serialize(StoredState.Of(state), Json)).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogStateWriteFailed(ex, name);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<NodeState>> ReadStatesAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var now = _time.GetUtcNow();
        var own = _ownStates.TryGetValue(name, out var mine) && mine.ExpiresAt > now ? mine : null;
        if (!_redis.IsConnected)
        {
            if (Status.State != ClusterLinkState.Lost)
            {
                // The link's events and IsConnected disagree for a moment (one connection back, the other not yet):
                // this node's own state is not the cluster's, and the caller must not take it for that.
                throw new ClusterUnavailableException($"The other nodes' {name} cannot be read: Redis is reconnecting.");
            }
            return own is null ? [] : [own];
        }
        HashEntry[] entries;
        try
        {
            entries = await _redis.GetDatabase().HashGetAllAsync(StateKey(name)).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogStateReadFailed(ex, name);
            throw new ClusterUnavailableException($"The other nodes' {name} could not be read from Redis: {ex.Message}", ex);
        }
        var states = new List<NodeState>();
        var expired = new List<RedisValue>();
        foreach (var entry in entries)
        {
            var stored = TryRead(entry.Value);
            if (stored is null || stored.ExpiresAt <= now)
            {
                expired.Add(entry.Name);
                expired.Add(entry.Value);
            }
            else if (stored.NodeId != Node.Id)
            {
                states.Add(new NodeState(new ClusterNode(stored.NodeId, stored.NodeName), stored.Json, stored.ExpiresAt));
            }
        }
        if (own is not null)
        {
            states.Add(own); // this node's latest, even if Redis holds an older copy
        }
        if (expired.Count > 0)
        {
            // A node that died leaves its fields: whoever reads them past their expiry removes them, each only if it
            // still holds what was read (its node may have written a fresh value since).
            _ = _redis.GetDatabase().ScriptEvaluateAsync(DeleteIfUnchanged, [StateKey(name)], [.. expired], CommandFlags.FireAndForget);
        }
        return [.. states.OrderBy(s => s.Node.Name, StringComparer.OrdinalIgnoreCase).ThenBy(s => s.Node.Id, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _closing.CancelAsync();
        foreach (var channel in _channels.Values)
        {
            await channel.StopAsync();
        }
        await _redis.CloseAsync(allowCommandsToComplete: false);
        _redis.Dispose();
        _closing.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // A container that disposes synchronously: closing waits for Redis at most this long, never for ever.
        if (!DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10)))
        {
            LogCloseTimedOut();
        }
    }

    private RedisChannel ChannelOf(string channel) => RedisChannel.Literal($"{_prefix}:{channel}");

    private RedisKey StateKey(string name) => $"{_prefix}:state:{name}";

    private static string Endpoints(ConfigurationOptions options) => string.Join(", ", options.EndPoints.Select(e => e.ToString()));

    private static StoredState? TryRead(RedisValue value)
    {
        try
        {
            return value.HasValue ? JsonSerializer.Deserialize<StoredState>((string)value!, Json) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void SetStatus(ClusterLinkState state, string? problem)
    {
        ClusterStatus changed;
        Func<ClusterStatus, Task>[] handlers;
        lock (_statusGate)
        {
            if (_status.State == state)
            {
                return;
            }
            changed = _status = new ClusterStatus(state, _time.GetUtcNow(), problem);
            handlers = [.. _statusHandlers];
        }
        if (state == ClusterLinkState.Lost)
        {
            LogLost(problem ?? "");
        }
        else
        {
            LogRestored();
        }
        foreach (var handler in handlers)
        {
            _ = Notify(handler, changed);
        }
    }

    private async Task Notify(Func<ClusterStatus, Task> handler, ClusterStatus status)
    {
        try
        {
            await handler(status);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogHandlerFailed(ex, "status");
        }
    }

    private async Task DispatchAsync(string channel, Listener[] listeners, RedisValue value)
    {
        Envelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<Envelope>((byte[])value!, Json);
        }
        catch (JsonException ex)
        {
            LogBadMessage(ex, channel);
            return;
        }
        if (envelope is null || envelope.Origin == Node.Id)
        {
            return; // its own message: this node acted on it when it sent it
        }
        foreach (var listener in listeners)
        {
            try
            {
                await listener.Handle(envelope.Body);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // One bad handler (or one unreadable message) must not stop the channel.
                LogHandlerFailed(ex, channel);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problem} This node serves its own circuits alone and keeps trying")]
    private partial void LogNotReachable(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problem}. This node serves its own circuits alone until Redis is back")]
    private partial void LogLost(string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connection restored: events and shared state reach the other nodes again")]
    private partial void LogRestored();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A message on {Channel} could not be sent to the other nodes")]
    private partial void LogPublishFailed(Exception ex, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node's {Name} could not be shared")]
    private partial void LogStateWriteFailed(Exception ex, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The other nodes' {Name} could not be read")]
    private partial void LogStateReadFailed(Exception ex, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "An unreadable message on {Channel} was dropped")]
    private partial void LogBadMessage(Exception ex, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Closing the Redis connection took more than 10 s; left to the process's exit")]
    private partial void LogCloseTimedOut();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A handler of {Channel} failed")]
    private partial void LogHandlerFailed(Exception ex, string channel);

    private sealed record Envelope(
        [property: JsonPropertyName("o")] string Origin,
        [property: JsonPropertyName("b")] JsonElement Body);

    private sealed record StoredState(string NodeId, string NodeName, DateTimeOffset ExpiresAt, string Json)
    {
        public static StoredState Of(NodeState state) => new(state.Node.Id, state.Node.Name, state.ExpiresAt, state.Json);
    }

    private sealed record Listener(Func<JsonElement, Task> Handle);

    /// <summary>The listeners of one channel, and its one Redis subscription (made with the first, kept while any).</summary>
    private sealed class ChannelListeners(RedisClusterBus bus, string channel)
    {
        private readonly Lock _gate = new();
        private Listener[] _listeners = [];
        private Task<ChannelMessageQueue>? _queue;

        public void Add(Listener listener)
        {
            lock (_gate)
            {
                _listeners = [.. _listeners, listener];
                _queue ??= StartAsync();
            }
        }

        public void Remove(Listener listener)
        {
            lock (_gate)
            {
                _listeners = [.. _listeners.Where(l => l != listener)];
            }
        }

        public async Task StopAsync()
        {
            // A subscription still being made (Redis never answered) has nothing to undo; its loop ends with the bus.
            if (_queue is { IsCompletedSuccessfully: true } queue)
            {
                try
                {
                    await (await queue).UnsubscribeAsync();
                }
                catch (Exception ex) when (ex is RedisException or ObjectDisposedException or TimeoutException)
                {
                    // Closing anyway.
                }
            }
        }

        private async Task<ChannelMessageQueue> StartAsync()
        {
            // A message queue (not a callback): messages of one channel are handled one after another, in order.
            // Once made, StackExchange.Redis keeps the subscription across reconnects; until Redis first answers, ask again.
            ChannelMessageQueue queue;
            while (true)
            {
                try
                {
                    queue = await bus._redis.GetSubscriber().SubscribeAsync(bus.ChannelOf(channel)).ConfigureAwait(false);
                    break;
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
                {
                    if (bus._closing.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("The bus closed before Redis answered.", ex);
                    }
                    await Task.Delay(TimeSpan.FromSeconds(1), bus._time).ConfigureAwait(false);
                }
            }
            queue.OnMessage(message =>
            {
                Listener[] listeners;
                lock (_gate)
                {
                    listeners = _listeners;
                }
                return bus.DispatchAsync(channel, listeners, message.Message);
            });
            return queue;
        }
    }

    private sealed class Unsubscriber(Action undo) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0)
            {
                undo();
            }
        }
    }
}
