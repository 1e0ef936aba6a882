using System.Runtime.InteropServices;

namespace T2IStudio.Web.Storage;

/// <summary>
/// Makes a directory's entries durable. A rename (or a create, or a delete) changes the directory, not the file:
/// without an fsync of the directory itself a power cut can lose the new name even though the file's bytes were
/// flushed, and a row committed after the rename would point at nothing. POSIX only; Windows' rename is
/// journalled by NTFS and there is no directory handle to flush, so there it does nothing.
/// </summary>
internal static partial class DirectorySync
{
    // O_RDONLY alone opens a directory on Linux and macOS alike (O_DIRECTORY differs between architectures).
    private const int ReadOnly = 0;

    /// <summary>Flushes the entries of <paramref name="directory"/> to disk.</summary>
    /// <exception cref="IOException">The directory could not be opened or flushed.</exception>
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }
        var fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Could not open the folder {directory} to flush it (errno {Marshal.GetLastPInvokeError()}).");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"Could not flush the folder {directory} (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
