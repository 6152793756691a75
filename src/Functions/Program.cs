using ThreePL.Functions;

var builder = WebApplication.CreateBuilder(args);
AppSetup.Configure(builder);
var app = builder.Build();
AppSetup.Configure(app);
app.Run();

/// <summary>Exposed for <c>WebApplicationFactory</c> in the tests.</summary>
public partial class Program;
