using System.Globalization;

namespace T2IStudio.Cli;

/// <summary>A command-line mistake: exit code 2, with a message that names the bad argument.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>"--name value" options and positional words, checked against what a command accepts.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> _options = new(StringComparer.Ordinal);

    public Arguments(IEnumerable<string> args, IReadOnlySet<string> allowed, IReadOnlySet<string>? flags = null)
    {
        var list = args.ToList();
        for (var i = 0; i < list.Count; i++)
        {
            var arg = list[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(arg);
                continue;
            }
            if (flags?.Contains(arg) == true)
            {
                _options[arg] = "true";
                continue;
            }
            if (!allowed.Contains(arg))
            {
                throw new UsageException($"Unknown option {arg}.");
            }
            if (i + 1 >= list.Count)
            {
                throw new UsageException($"{arg} needs a value.");
            }
            _options[arg] = list[++i];
        }
    }

    public List<string> Positional { get; } = [];

    public bool Has(string name) => _options.ContainsKey(name);

    public string? Text(string name) => _options.GetValueOrDefault(name);

    public string RequiredText(string name) => Text(name) ?? throw new UsageException($"{name} is required.");

    public int Integer(string name, int fallback) =>
        Text(name) is not { } raw ? fallback
        : int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new UsageException($"{name} must be a whole number, not '{raw}'.");

    public ulong? UnsignedLong(string name) =>
        Text(name) is not { } raw ? null
        : ulong.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new UsageException($"{name} must be a whole number from 0, not '{raw}'.");

    public double Number(string name, double fallback) =>
        Text(name) is not { } raw ? fallback
        : double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value
        : throw new UsageException($"{name} must be a number, not '{raw}'.");
}
