using Azure;
using Azure.Data.Tables;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Email;

/// <summary>
/// Makes "send the e-mail for event X" happen once even when the event arrives twice, possibly at the same
/// time on two instances. A sender first claims the event's row (insert, or take over a claim whose lease
/// ran out), sends, then marks it sent. A concurrent duplicate sees a live claim and retries later, by which
/// time it finds the row sent. Only a crash between sending and marking can send twice: at least once wins
/// over at most once for an invitation.
/// </summary>
public sealed class SentEmailLog(TableServiceClient tables, StorageNames names, TimeProvider time)
{
    public const string TableName = "emails";
    private const string RowKey = "sent";

    public static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(2);

    private TableClient Table => tables.GetTableClient(names.Table(TableName));

    /// <summary>Null when the e-mail for <paramref name="messageId"/> was already sent; throws while another sender holds it.</summary>
    public async Task<ETag?> TryClaimAsync(string messageId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var claim = new TableEntity(messageId, RowKey) { ["Sent"] = false, ["ClaimedUntil"] = now + ClaimLease };
        try
        {
            return (await Table.AddEntityAsync(claim, cancellationToken).ConfigureAwait(false)).GetETag();
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
        }
        var existing = await Table.FindAsync(messageId, RowKey, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The e-mail claim of {messageId} vanished; retrying.");
        if (existing.GetBoolean("Sent") == true)
        {
            return null;
        }
        if (existing.GetDateTimeOffset("ClaimedUntil") > now)
        {
            throw new InvalidOperationException($"Another sender is sending the e-mail of {messageId}; retrying later.");
        }
        return (await Table.UpdateEntityAsync(claim, existing.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false)).GetETag();
    }

    public async Task MarkSentAsync(string messageId, ETag claim, string to, CancellationToken cancellationToken) =>
        await Table.UpdateEntityAsync(new TableEntity(messageId, RowKey) { ["Sent"] = true, ["To"] = to, ["SentAt"] = time.GetUtcNow() }, claim, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Records <paramref name="messageId"/> as sent without sending it: for an e-mail that went out under another id
    /// (<paramref name="sentAs"/>) before this id was its name. An existing row, sent or claimed, is left as it is.
    /// </summary>
    public async Task RecordSentAsAsync(string messageId, string sentAs, CancellationToken cancellationToken)
    {
        try
        {
            await Table.AddEntityAsync(new TableEntity(messageId, RowKey) { ["Sent"] = true, ["SentAs"] = sentAs }, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == StatusCodes.Status409Conflict)
        {
        }
    }

    /// <summary>Gives the claim up after a failed send, so the retry need not wait for the lease.</summary>
    public async Task ReleaseAsync(string messageId, ETag claim, CancellationToken cancellationToken) =>
        await Table.DeleteEntityAsync(messageId, RowKey, claim, cancellationToken).ConfigureAwait(false);
}
