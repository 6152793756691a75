using Microsoft.Azure.Functions.Worker.Builder;

namespace ThreePL.Functions;

/// <summary>The isolated worker the Functions host starts in Azure (and <c>func start</c> where Core Tools are installed).</summary>
public static class Program
{
    public static void Main(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddThreePL(builder.Configuration);
        builder.Logging.AddFilter("Azure.Core", LogLevel.Warning);
        builder.Build().Run();
    }
}
