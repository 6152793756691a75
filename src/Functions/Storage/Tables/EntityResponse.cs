using Azure;

namespace ThreePL.Functions.Storage.Tables;

internal sealed class EntityResponse(TableEntity? entity, Response rawResponse) : NullableResponse<TableEntity>
{
    public override bool HasValue => entity is not null;

    public override TableEntity Value => entity ?? throw new InvalidOperationException("The entity does not exist; check HasValue first.");

    public override Response GetRawResponse() => rawResponse;
}
