using System.ComponentModel.DataAnnotations;

namespace T2IStudio.Web.Cluster;

/// <summary>
/// How this web node finds the others (section <c>Cluster</c>, plus <c>ConnectionStrings:Redis</c>). Without a
/// Redis connection string the node is alone: events, presence and caches stay in this process, as before.
/// </summary>
public sealed record ClusterOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Cluster";

    /// <summary>The connection string name that switches the shared mode on.</summary>
    public const string RedisConnectionName = "Redis";

    /// <summary>This node's name, for people (Admin page, logs, <c>/health</c>); default: the machine name.</summary>
    [MaxLength(100, ErrorMessage = "Cluster:NodeName must be at most 100 characters.")]
    public string? NodeName { get; set; }

    /// <summary>
    /// The prefix of every Redis key and channel this install uses, so several installs (or test runs) can share
    /// one Redis server. Letters, digits, '-', '_' and '.'.
    /// </summary>
    [RegularExpression(@"^[A-Za-z0-9._-]{1,40}$", ErrorMessage = "Cluster:RedisPrefix must be 1-40 letters, digits, '.', '-' or '_'.")]
    public string RedisPrefix { get; set; } = "t2i";

    /// <summary><c>ConnectionStrings:Redis</c> (StackExchange.Redis syntax, e.g. <c>redis:6379</c>), bound beside the section.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Whether the node shares events and state with other nodes through Redis.</summary>
    public bool IsShared => !string.IsNullOrWhiteSpace(RedisConnectionString);
}
