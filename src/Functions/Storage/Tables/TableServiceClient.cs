using Azure.Core.Pipeline;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>Entry point to an account's tables; create once and share, since it owns the HTTP pipeline.</summary>
public sealed class TableServiceClient
{
    private readonly StorageAccount _account;
    private readonly HttpPipeline _pipeline;

    public TableServiceClient(StorageAccount account, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(account);
        _account = account;
        _pipeline = account.CreatePipeline(StorageService.Table, options);
    }

    /// <exception cref="ArgumentException">The name is not 3-63 letters and digits starting with a letter.</exception>
    public TableClient GetTableClient(string tableName)
    {
        ValidateTableName(tableName);
        return new TableClient(_account.TableEndpoint, _pipeline, tableName);
    }

    internal static void ValidateTableName(string tableName)
    {
        ArgumentNullException.ThrowIfNull(tableName);
        if (tableName.Length is < 3 or > 63 || !char.IsAsciiLetter(tableName[0]) || !tableName.All(char.IsAsciiLetterOrDigit))
        {
            throw new ArgumentException($"Table name '{tableName}' must be 3-63 ASCII letters and digits, starting with a letter.", nameof(tableName));
        }
    }
}
