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
        Assert.Equal([new Uri(hub)], new WorkerOptions { Server = server, Key = "k" }.HubUrls);

    [Fact]
    public void Several_servers_separated_by_commas_are_each_a_hub_in_the_order_given()
    {
        var options = new WorkerOptions { Server = "http://web1:8080, http://web2:8080/,", Key = "k" };

        Assert.Null(options.ServerProblem());
        Assert.Equal([new Uri("http://web1:8080/hubs/workers"), new Uri("http://web2:8080/hubs/workers")], options.HubUrls);
    }

    [Theory]
    [InlineData("http://web1:8080,web2:8080", "\"web2:8080\"")]
    [InlineData("ftp://web1,http://web2:8080", "\"ftp://web1\"")]
    [InlineData("http://web1:8080,not an address", "\"not an address\"")]
    public void A_bad_address_in_the_list_is_named(string server, string named)
    {
        var problem = new WorkerOptions { Server = server, Key = "k" }.ServerProblem();

        Assert.NotNull(problem);
        Assert.Contains(named, problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" , ")]
    public void No_address_at_all_says_the_server_is_required(string server) =>
        Assert.Contains("--server is required", new WorkerOptions { Server = server, Key = "k" }.ServerProblem(), StringComparison.Ordinal);
}
