namespace T2IStudio.Data.Entities;

/// <summary>A row that belongs to one person: the web app's access checks start from its owner.</summary>
public interface IOwnedResource
{
    /// <summary>The owner's user id.</summary>
    string OwnerId { get; }
}
