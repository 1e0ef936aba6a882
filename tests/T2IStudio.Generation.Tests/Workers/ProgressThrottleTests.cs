using Microsoft.Extensions.Time.Testing;
using T2IStudio.Generation.Workers;

namespace T2IStudio.Generation.Tests.Workers;

public sealed class ProgressThrottleTests
{
    [Fact]
    public void Previews_go_out_at_most_four_times_a_second_per_job_and_are_encoded_only_when_sent()
    {
        var time = new FakeTimeProvider();
        var job = new ProgressThrottle(time);
        var other = new ProgressThrottle(time);
        var sent = new List<(int Step, bool Preview)>();
        var encoded = 0;

        // 100 steps 10 ms apart: one second of progress, each step with a preview to offer.
        for (var step = 1; step <= 100; step++)
        {
            if (job.Due(step, 100, hasPreview: true, out var withPreview))
            {
                encoded += withPreview ? 1 : 0; // the worker encodes only a preview that goes out
                sent.Add((step, withPreview));
            }
            time.Advance(TimeSpan.FromMilliseconds(10));
        }
        Assert.True(other.Due(1, 10, hasPreview: true, out var otherPreview));

        var previews = sent.Count(s => s.Preview);
        Assert.InRange(previews, 1, 4);
        Assert.Equal(previews, encoded);
        Assert.True(otherPreview); // another job's first preview: its own throttle lets it through
        Assert.Equal(100, sent.Max(s => s.Step)); // the last step always goes out
        Assert.InRange(sent.Count, 5, 15); // about ten a second (plus previews and the last step), not a hundred
    }
}
