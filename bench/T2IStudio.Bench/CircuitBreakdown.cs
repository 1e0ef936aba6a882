#pragma warning disable BL0006 // the bench's diagnostic reads render trees on purpose (see the class summary)
using System.Collections;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Components.RenderTree;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace T2IStudio.Bench;

/// <summary>
/// Counts what one live circuit's renderer holds, by component type: how many components and how many bytes of
/// render-tree frames (the current and the previous tree). No heap dump is available offline, so this is how the
/// bench points at the components that cost most. It reads the framework's private fields by reflection: a
/// diagnostic of the bench only (<c>--breakdown</c>), never used by the app.
/// </summary>
internal static class CircuitBreakdown
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;

    public static void Print(string page, Circuit? circuit)
    {
        if (circuit is null)
        {
            return;
        }
        var host = Field(circuit, "_circuitHost");
        var renderer = host?.GetType().GetProperty("Renderer", Instance)?.GetValue(host);
        var states = renderer is null ? null : FieldOfType<IDictionary>(renderer, "_componentStateById");
        if (states is null)
        {
            Console.WriteLine("          (breakdown: the renderer's fields were not found)");
            return;
        }
        var frameSize = Unsafe.SizeOf<RenderTreeFrame>();
        var rows = new Dictionary<string, (int Count, long Bytes)>();
        foreach (DictionaryEntry entry in states)
        {
            var state = entry.Value!;
            var component = state.GetType().GetProperty("Component", Instance)?.GetValue(state);
            var name = component?.GetType().Name ?? "?";
            long frames = 0;
            foreach (var field in AllFields(state.GetType()).Where(f => f.FieldType == typeof(Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder)))
            {
                frames += FrameCapacity(field.GetValue(state));
            }
            var (count, bytes) = rows.GetValueOrDefault(name);
            rows[name] = (count + 1, bytes + frames * frameSize);
        }
        Console.WriteLine($"          {page}: {states.Count} components, {rows.Values.Sum(r => r.Bytes) / 1024} KB of frames ({frameSize} B each); top by frames:");
        foreach (var (name, (count, bytes)) in rows.OrderByDescending(r => r.Value.Bytes).Take(12))
        {
            Console.WriteLine($"            {name,-36} x{count,-4} {bytes / 1024,6} KB");
        }
        // Which of the app's own components the framework's and MudBlazor's components render under (nearest ancestor).
        var owners = new Dictionary<string, int>();
        var ownedTypes = new Dictionary<string, Dictionary<string, int>>();
        var bigStrings = new List<string>();
        foreach (DictionaryEntry entry in states)
        {
            var state = entry.Value!;
            var owner = state;
            while (owner is not null && owner.GetType().GetProperty("Component", Instance)?.GetValue(owner)?.GetType().Namespace?.StartsWith("T2IStudio", StringComparison.Ordinal) != true)
            {
                owner = owner.GetType().GetProperty("ParentComponentState", Instance)?.GetValue(owner);
            }
            var ownerName = owner?.GetType().GetProperty("Component", Instance)?.GetValue(owner)?.GetType().Name ?? "(root)";
            owners[ownerName] = owners.GetValueOrDefault(ownerName) + 1;
            var typeName = state.GetType().GetProperty("Component", Instance)?.GetValue(state)?.GetType().Name ?? "?";
            var types = ownedTypes.TryGetValue(ownerName, out var known) ? known : ownedTypes[ownerName] = [];
            types[typeName] = types.GetValueOrDefault(typeName) + 1;
            foreach (var field in AllFields(state.GetType()).Where(f => f.FieldType == typeof(Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder)))
            {
                if (field.GetValue(state) is Microsoft.AspNetCore.Components.Rendering.RenderTreeBuilder builder)
                {
                    foreach (var frame in builder.GetFrames().Array.Take(builder.GetFrames().Count))
                    {
                        var text = frame.FrameType switch
                        {
                            RenderTreeFrameType.Markup => frame.MarkupContent,
                            RenderTreeFrameType.Text => frame.TextContent,
                            RenderTreeFrameType.Attribute => frame.AttributeValue as string,
                            _ => null,
                        };
                        if (text is { Length: > 4096 })
                        {
                            var component = state.GetType().GetProperty("Component", Instance)?.GetValue(state);
                            bigStrings.Add($"{component?.GetType().Name}.{field.Name}: {text.Length} chars \"{text[..Math.Min(60, text.Length)].ReplaceLineEndings(" ")}\"");
                        }
                    }
                }
            }
        }
        Console.WriteLine($"          under: {string.Join(", ", owners.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))}");
        foreach (var (owner, types) in ownedTypes.Where(o => o.Value.Values.Sum() >= 5).OrderByDescending(o => o.Value.Values.Sum()))
        {
            Console.WriteLine($"            {owner}: {string.Join(", ", types.OrderByDescending(t => t.Value).Select(t => $"{t.Key} {t.Value}"))}");
        }
        foreach (var big in bigStrings)
        {
            Console.WriteLine($"          big string in {big}");
        }
        Console.WriteLine($"          all by number: {string.Join(", ", rows.OrderByDescending(r => r.Value.Count).Select(r => $"{r.Key} x{r.Value.Count}"))}");
    }

    private static long FrameCapacity(object? builder)
    {
        if (builder is null)
        {
            return 0;
        }
        long total = 0;
        foreach (var field in AllFields(builder.GetType()))
        {
            var value = field.GetValue(builder);
            if (value is null || field.FieldType.IsPrimitive)
            {
                continue;
            }
            foreach (var inner in AllFields(value.GetType()))
            {
                if (inner.GetValue(value) is RenderTreeFrame[] frames)
                {
                    total += frames.Length;
                }
            }
        }
        return total;
    }

    private static IEnumerable<FieldInfo> AllFields(Type? type)
    {
        for (; type is not null; type = type.BaseType)
        {
            foreach (var field in type.GetFields(Instance | BindingFlags.DeclaredOnly))
            {
                yield return field;
            }
        }
    }

    private static object? Field(object owner, string name) => AllFields(owner.GetType()).FirstOrDefault(f => f.Name == name)?.GetValue(owner);

    private static T? FieldOfType<T>(object owner, string name) where T : class => Field(owner, name) as T;
}
