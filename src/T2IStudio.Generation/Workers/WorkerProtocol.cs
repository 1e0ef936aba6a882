using System.Text.Json.Serialization;
using T2IStudio.Generation.Imaging;

namespace T2IStudio.Generation.Workers;

/// <summary>What a worker says about itself when it joins.</summary>
/// <param name="WorkerId">Chosen by the worker at start; the same across reconnects of one run.</param>
/// <param name="Name">For people: the Admin page and the Create page's job card show it.</param>
/// <param name="Device">The device it runs on, in words ("cpu", "cuda:0 NVIDIA H200").</param>
/// <param name="FreeMemoryBytes">Free memory of that device when it joined, if known.</param>
/// <param name="Models">The ids of the models it has; it is given jobs for these only.</param>
/// <param name="Version">The worker's build, for the Admin page.</param>
public sealed record WorkerHello(Guid WorkerId, string Name, string Device, long? FreeMemoryBytes, IReadOnlyList<string> Models, string Version);

/// <summary>The server's answer to <see cref="WorkerHello"/>.</summary>
/// <param name="HeartbeatSeconds">How often to beat while a job runs.</param>
/// <param name="LeaseSeconds">How long a lease lasts without a beat.</param>
public sealed record WorkerWelcome(int HeartbeatSeconds, int LeaseSeconds);

/// <summary>A job handed to one worker under a lease: everything it needs to run it, and nothing else.</summary>
/// <param name="JobId">The job.</param>
/// <param name="LeaseId">This lease; every report about the job names it, and a report under an old lease is refused.</param>
/// <param name="Model">The model id.</param>
/// <param name="RequestJson">The stored request (<see cref="Pipelines.GenerationMetadata.ReadStoredRequest"/>).</param>
/// <param name="SourcePng">Inpainting: the source image's PNG.</param>
/// <param name="MaskPng">Inpainting: the mask's PNG, at the source's size.</param>
/// <param name="Attempt">Which attempt this is (1 for the first).</param>
public sealed record JobAssignment(Guid JobId, Guid LeaseId, string Model, string RequestJson, byte[]? SourcePng, byte[]? MaskPng, int Attempt);

/// <summary>One finished image as a worker hands it over.</summary>
/// <param name="BatchIndex">Its place in the batch (0-based).</param>
/// <param name="Seed">Its seed.</param>
/// <param name="Png">The PNG, parameters embedded.</param>
public sealed record DeliveredImage(int BatchIndex, ulong Seed, byte[] Png)
{
    /// <summary>The decoded pixels, when the worker runs in the same process (saves the server a decode); never sent.</summary>
    [JsonIgnore]
    public RgbImage? Pixels { get; init; }
}

/// <summary>The server's answer to a delivery.</summary>
/// <param name="Accepted">The images are stored and the job is completed.</param>
/// <param name="Reason">Why it was refused (the lease is gone, or an image failed the checks).</param>
public sealed record DeliveryReceipt(bool Accepted, string? Reason)
{
    /// <summary>Stored.</summary>
    public static DeliveryReceipt Stored { get; } = new(true, null);

    /// <summary>Refused, because <paramref name="reason"/>.</summary>
    public static DeliveryReceipt Refused(string reason) => new(false, reason);
}

/// <summary>How much more a worker can take beside the job it holds, in one UNet call.</summary>
/// <param name="MaxImages">Images it can add (its batch limit, less the head job's images, within its memory estimate).</param>
public sealed record BatchOffer(int MaxImages);
