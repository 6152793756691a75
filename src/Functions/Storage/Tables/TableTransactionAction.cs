using Azure;

namespace ThreePL.Functions.Storage.Tables;

public enum TableTransactionActionType
{
    Add,
    UpdateMerge,
    UpdateReplace,
    UpsertMerge,
    UpsertReplace,
    Delete,
}

/// <summary>
/// One operation of an entity-group transaction. <paramref name="etag"/> is the <c>If-Match</c> for updates
/// and deletes; when omitted the entity's own <see cref="TableEntity.ETag"/> is used. Updates must carry one
/// (<see cref="ETag.All"/> to overwrite unconditionally); a delete without one is unconditional.
/// </summary>
public sealed record TableTransactionAction(TableTransactionActionType ActionType, TableEntity Entity, ETag ETag = default);
