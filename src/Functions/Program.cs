using ThreePL.Functions;
using ThreePL.Functions.Hosting;

// Build step: write the function.json folders of the Functions package (scripts/publish.sh) and exit.
if (FunctionManifest.OutputDirectory(args) is { } manifestDirectory)
{
    foreach (var name in FunctionManifest.Emit(args, manifestDirectory))
    {
        Console.WriteLine(name);
    }
    return;
}

var builder = WebApplication.CreateBuilder(args);
AppSetup.Configure(builder);
var app = builder.Build();
AppSetup.Configure(app);
app.Run();

/// <summary>Exposed for <c>WebApplicationFactory</c> in the tests.</summary>
public partial class Program;
