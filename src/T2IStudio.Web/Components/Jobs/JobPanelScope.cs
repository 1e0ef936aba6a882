namespace T2IStudio.Web.Components.Jobs;

/// <summary>Which jobs a <see cref="JobQueuePanel"/> follows.</summary>
public enum JobPanelScope
{
    /// <summary>The person's own jobs: the waiting and running ones and the most recent finished ones (Create).</summary>
    Mine,

    /// <summary>Jobs anyone saves into one gallery, while they wait or run (a gallery page).</summary>
    Gallery,

    /// <summary>Only the jobs the page hands it with <see cref="JobQueuePanel.TrackAsync"/> (Inpaint).</summary>
    Submitted,
}
