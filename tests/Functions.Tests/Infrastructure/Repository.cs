namespace ThreePL.Functions.Tests.Infrastructure;

/// <summary>The repository the tests were built from: the folder above the test binaries that holds <c>ThreePL.sln</c>.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>A path inside the repository, from its parts (e.g. <c>"src", "Functions"</c>).</summary>
    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ThreePL.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("ThreePL.sln not found above " + AppContext.BaseDirectory);
    }
}
