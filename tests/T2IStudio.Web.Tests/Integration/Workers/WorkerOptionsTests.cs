using T2IStudio.Generation.Onnx;
using T2IStudio.Worker;

namespace T2IStudio.Web.Tests.Integration.Workers;

/// <summary>The worker's command line: <c>--device</c> forms and where the hub is.</summary>
public sealed class WorkerOptionsTests
{
    [Theory]
    [InlineData(null, DevicePreference.Auto, 0)]
    [InlineData("auto", DevicePreference.Auto, 0)]
    [InlineData("cpu", DevicePreference.Cpu, 0)]
    [InlineData("cuda", DevicePreference.Cuda, 0)]
    [InlineData("cuda:3", DevicePreference.Cuda, 3)]
    [InlineData("CUDA:1", DevicePreference.Cuda, 1)]
    public void A_device_switch_names_the_preference_and_the_gpu(string? device, DevicePreference preference, int id) =>
        Assert.Equal((preference, id), WorkerOptions.ParseDevice(device));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:64")]
    [InlineData("cuda:1x")]
    public void Any_other_device_switch_is_refused(string device) => Assert.Null(WorkerOptions.ParseDevice(device));

    [Theory]
    [InlineData("http://web:5080", "http://web:5080/hubs/workers")]
    [InlineData("http://web:5080/", "http://web:5080/hubs/workers")]
    [InlineData("https://studio.example/app", "https://studio.example/app/hubs/workers")]
    public void The_hub_is_under_the_server_address(string server, string hub) =>
        Assert.Equal(new Uri(hub), new WorkerOptions { Server = server, Key = "k" }.HubUrl);
}
