// Zips a directory for scripts/publish.sh on machines without `zip`, keeping Unix file modes as zip(1) does, and
// hidden entries such as .azurefunctions/. Usage: dotnet run --file scripts/zip-package.cs -- DIR ZIP
#:property PublishAot=false
using System.IO.Compression;

if (args.Length != 2)
{
    Console.Error.WriteLine("usage: zip-package.cs DIRECTORY ZIP");
    return 2;
}
var root = Path.GetFullPath(args[0]);
using var zip = ZipFile.Open(args[1], ZipArchiveMode.Create);
foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
{
    var name = Path.GetRelativePath(root, file).Replace(Path.DirectorySeparatorChar, '/');
    var entry = zip.CreateEntryFromFile(file, name, CompressionLevel.Optimal);
    if (!OperatingSystem.IsWindows())
    {
        // Unix mode in the high 16 bits of the external attributes, as zip(1) writes it: regular file + permissions.
        entry.ExternalAttributes = (0x8000 | (int)File.GetUnixFileMode(file)) << 16;
    }
}
return 0;
