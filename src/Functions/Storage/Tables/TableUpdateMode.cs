namespace ThreePL.Functions.Storage.Tables;

public enum TableUpdateMode
{
    /// <summary>Sets the given properties and keeps the others (HTTP MERGE).</summary>
    Merge,

    /// <summary>Replaces the whole entity; properties not given are removed (HTTP PUT).</summary>
    Replace,
}
