using T2IStudio.Data;
using T2IStudio.Generation;
using T2IStudio.Web;

var builder = WebApplication.CreateBuilder(args);
builder.AddStudioData();
builder.AddStudioGeneration();
builder.AddStudioWeb();

var app = builder.Build();
app.UseStudioPipeline();
app.MapStudioEndpoints();

await app.RunAsync();

/// <summary>The web host's entry point; public so tests can start it with WebApplicationFactory.</summary>
public partial class Program;
