namespace T2IStudio.Generation.Tests.Schedulers;

/// <summary>The SD noise schedule computed independently of the production code, for expected values.</summary>
internal static class SchedulerMath
{
    public static double AlphaCumprod(int t)
    {
        var product = 1.0;
        for (var i = 0; i <= t; i++)
        {
            var sqrtBeta = Math.Sqrt(0.00085) + (Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * i / 999.0;
            product *= 1 - sqrtBeta * sqrtBeta;
        }
        return product;
    }

    public static double Sigma(int t) => Math.Sqrt((1 - AlphaCumprod(t)) / AlphaCumprod(t));
}
