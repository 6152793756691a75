using Azure.Core;
using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage;

/// <summary>
/// Endpoints and credentials of one storage account. Either a shared key (connection string, used locally
/// against Azurite) or a <see cref="TokenCredential"/> (managed identity in Azure; no keys in app settings).
/// </summary>
public sealed class StorageAccount
{
    public const string DevelopmentAccountName = "devstoreaccount1";

    // Microsoft's published emulator key; it only ever grants access to a local Azurite.
    public const string DevelopmentAccountKey =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly string[] s_tokenScopes = ["https://storage.azure.com/.default"];

    private readonly byte[]? _accountKey;
    private readonly TokenCredential? _credential;

    private StorageAccount(Uri tableEndpoint, Uri queueEndpoint, string accountName, byte[]? accountKey, TokenCredential? credential)
    {
        TableEndpoint = tableEndpoint;
        QueueEndpoint = queueEndpoint;
        AccountName = accountName;
        _accountKey = accountKey;
        _credential = credential;
    }

    public Uri TableEndpoint { get; }

    public Uri QueueEndpoint { get; }

    public string AccountName { get; }

    /// <summary>
    /// Parses <c>UseDevelopmentStorage=true</c>, an account-key connection string
    /// (<c>AccountName</c>, <c>AccountKey</c>, optional <c>DefaultEndpointsProtocol</c> and <c>EndpointSuffix</c>),
    /// or one with explicit <c>TableEndpoint</c>/<c>QueueEndpoint</c>.
    /// </summary>
    /// <exception cref="FormatException">The string is malformed or lacks a key or an endpoint.</exception>
    public static StorageAccount Parse(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);

        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var segment in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var separator = segment.IndexOf('=');
            if (separator <= 0)
            {
                throw new FormatException($"Connection string segment '{Redact(segment)}' is not of the form Name=Value.");
            }

            settings[segment[..separator].Trim()] = segment[(separator + 1)..].Trim();
        }

        if (settings.TryGetValue("UseDevelopmentStorage", out var useDevelopment)
            && string.Equals(useDevelopment, "true", StringComparison.OrdinalIgnoreCase))
        {
            return new StorageAccount(
                new Uri($"http://127.0.0.1:10002/{DevelopmentAccountName}"),
                new Uri($"http://127.0.0.1:10001/{DevelopmentAccountName}"),
                DevelopmentAccountName,
                Convert.FromBase64String(DevelopmentAccountKey),
                credential: null);
        }

        if (!settings.TryGetValue("AccountName", out var accountName) || accountName.Length == 0)
        {
            throw new FormatException("Connection string has no AccountName.");
        }

        if (!settings.TryGetValue("AccountKey", out var accountKeyText) || accountKeyText.Length == 0)
        {
            throw new FormatException("Connection string has no AccountKey; use FromCredential for managed identity.");
        }

        byte[] accountKey;
        try
        {
            accountKey = Convert.FromBase64String(accountKeyText);
        }
        catch (FormatException ex)
        {
            throw new FormatException("Connection string AccountKey is not valid base64.", ex);
        }

        var protocol = settings.GetValueOrDefault("DefaultEndpointsProtocol", "https");
        if (protocol is not ("http" or "https"))
        {
            throw new FormatException($"DefaultEndpointsProtocol must be http or https, not '{protocol}'.");
        }

        var suffix = settings.GetValueOrDefault("EndpointSuffix", "core.windows.net");
        var tableEndpoint = ParseEndpoint(settings, "TableEndpoint") ?? new Uri($"{protocol}://{accountName}.table.{suffix}");
        var queueEndpoint = ParseEndpoint(settings, "QueueEndpoint") ?? new Uri($"{protocol}://{accountName}.queue.{suffix}");
        return new StorageAccount(tableEndpoint, queueEndpoint, accountName, accountKey, credential: null);
    }

    /// <summary>For managed identity: requests carry a bearer token for the storage scope instead of a shared key.</summary>
    public static StorageAccount FromCredential(Uri tableServiceUri, Uri queueServiceUri, TokenCredential credential)
    {
        ArgumentNullException.ThrowIfNull(tableServiceUri);
        ArgumentNullException.ThrowIfNull(queueServiceUri);
        ArgumentNullException.ThrowIfNull(credential);
        if (!tableServiceUri.IsAbsoluteUri || !queueServiceUri.IsAbsoluteUri)
        {
            throw new ArgumentException("Service URIs must be absolute.");
        }

        return new StorageAccount(
            TrimTrailingSlash(tableServiceUri),
            TrimTrailingSlash(queueServiceUri),
            AccountNameFromHost(tableServiceUri),
            accountKey: null,
            credential);
    }

    internal HttpPipeline CreatePipeline(StorageService service, StorageClientOptions? options)
    {
        options ??= new StorageClientOptions();
        HttpPipelinePolicy authentication = _credential is not null
            ? new BearerTokenAuthenticationPolicy(_credential, s_tokenScopes)
            : new SharedKeyPolicy(AccountName, _accountKey!, service);

        // Authentication goes per retry so every attempt is signed with a fresh x-ms-date.
        var pipelineOptions = new HttpPipelineOptions(options)
        {
            RequestFailedDetailsParser = StorageErrorParser.Instance,
        };
        pipelineOptions.PerRetryPolicies.Add(authentication);
        return HttpPipelineBuilder.Build(pipelineOptions);
    }

    private static Uri? ParseEndpoint(Dictionary<string, string> settings, string name)
    {
        if (!settings.TryGetValue(name, out var value))
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FormatException($"{name} '{value}' is not an absolute http(s) URI.");
        }

        return TrimTrailingSlash(uri);
    }

    // Clients append "/{name}" to the endpoint; a trailing slash would double it and break the signature.
    private static Uri TrimTrailingSlash(Uri uri) => new(uri.GetLeftPart(UriPartial.Path).TrimEnd('/'));

    private static string AccountNameFromHost(Uri uri)
    {
        // Path-style endpoints (emulator, custom domains) name the account in the first path segment.
        if (uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6 || uri.IsLoopback)
        {
            var firstSegment = uri.AbsolutePath.Trim('/').Split('/')[0];
            return firstSegment.Length > 0 ? firstSegment : uri.Host;
        }

        return uri.Host.Split('.')[0];
    }

    // Keys must never reach logs or exception messages.
    private static string Redact(string segment) => segment.Length > 12 ? segment[..12] + "…" : segment;
}
