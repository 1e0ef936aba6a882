using T2IStudio.Generation.Onnx;

namespace T2IStudio.Generation.TextualInversion;

/// <summary>
/// Opens a text encoder with the embeddings that fit it: their vectors become new rows of its token table (the
/// graph is edited in memory and the session made from the edited bytes) and the returned
/// <see cref="EmbeddingFit"/> tells the tokenizer which ids each trigger word becomes. Without embeddings, or
/// when none fits, the file is opened as it is. An encoder whose table cannot be extended still opens: every
/// embedding is then refused with the reason, and the model works without them.
/// </summary>
public static class TextEncoderSession
{
    /// <summary>Opens <paramref name="path"/> for the encoder <paramref name="encoderKey"/> (<see cref="TextEncoderKeys"/>).</summary>
    /// <param name="path">The encoder's model.onnx.</param>
    /// <param name="encoderKey">Which of the model's encoders it is: an SDXL pair gives clip_l to the first, clip_g to the second.</param>
    /// <param name="embeddings">The embeddings to add.</param>
    /// <param name="device">Where the session runs.</param>
    /// <param name="twoEncoders">True for a model with two text encoders (SDXL).</param>
    public static (OnnxComponent Encoder, EmbeddingFit Fit) Open(string path, string encoderKey, EmbeddingLibrary embeddings, ExecutionDevice device, bool twoEncoders = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentNullException.ThrowIfNull(device);
        var none = new EmbeddingFit([], [], [], 0);
        if (embeddings.Embeddings.Count == 0)
        {
            return (new OnnxComponent(path, device), none);
        }
        if (new FileInfo(path).Length > Array.MaxLength)
        {
            return (new OnnxComponent(path, device), RefuseAll(embeddings, "this text encoder's file is over 2 GB, too large to edit in memory."));
        }
        var bytes = File.ReadAllBytes(path);
        EmbeddingFit fit;
        byte[] edited;
        try
        {
            var table = TokenTableRewriter.Find(bytes);
            fit = embeddings.Fit(encoderKey, table.Width, checked((int)table.IdCount), twoEncoders);
            if (fit.RowCount == 0)
            {
                return (new OnnxComponent(path, device), fit);
            }
            edited = TokenTableRewriter.AppendRows(bytes, fit.Rows);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException or OverflowException)
        {
            // The embeddings are what cannot be used here; the encoder itself opens as it is (or fails on its own).
            return (new OnnxComponent(path, device), RefuseAll(embeddings, ex.Message));
        }
        return (new OnnxComponent(path, edited, device), fit);
    }

    private static EmbeddingFit RefuseAll(EmbeddingLibrary embeddings, string reason) =>
        new([], [.. embeddings.Embeddings.Select(e => new Tokenization.RefusedToken(e.Trigger, reason))], [], 0);
}
