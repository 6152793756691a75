using Azure;
using Azure.Core;

namespace ThreePL.Functions.Storage.Tables;

/// <summary>
/// An entity-group transaction was rejected and nothing was written. <see cref="RequestFailedException.Status"/> and
/// <see cref="RequestFailedException.ErrorCode"/> are those of the failing operation (412 for a stale ETag,
/// 409 for an existing entity), not of the 202 envelope.
/// </summary>
public sealed class TableTransactionFailedException : RequestFailedException
{
    internal TableTransactionFailedException(Response failedOperationResponse, int? failedTransactionActionIndex, RequestFailedDetailsParser parser)
        : base(failedOperationResponse, innerException: null, parser)
    {
        FailedTransactionActionIndex = failedTransactionActionIndex;
    }

    /// <summary>The 0-based index of the action that failed, when the service named one.</summary>
    public int? FailedTransactionActionIndex { get; }
}
