namespace T2IStudio.Generation.Imaging;

/// <summary>
/// An untrusted image that <see cref="ImageIntake"/> will not read. The message is written for the person who
/// sent the file (what is wrong and what T2I Studio reads) and is safe to show as it is.
/// </summary>
public sealed class ImageRefusedException : Exception
{
    /// <summary>A refusal with a message for a person.</summary>
    public ImageRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>A refusal with a message for a person and the decoder's own error behind it.</summary>
    public ImageRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
