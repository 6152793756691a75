using System.Diagnostics;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using ThreePL.Functions.Storage;
using ThreePL.Functions.Storage.Queues;
using ThreePL.Functions.Tests.Infrastructure;

namespace ThreePL.Functions.Tests.Storage;

[Collection("azurite")]
public sealed class QueueClientTests(AzuriteFixture azurite)
{
    private readonly QueueServiceClient _service = new(azurite.Account);

    private async Task<QueueClient> NewQueueAsync()
    {
        var queue = _service.GetQueueClient(AzuriteFixture.UniqueName("q"));
        await queue.CreateIfNotExistsAsync();
        return queue;
    }

    [Fact]
    public async Task Create_is_idempotent_and_delete_tolerates_missing()
    {
        var queue = _service.GetQueueClient(AzuriteFixture.UniqueName("q"));

        Assert.Equal(201, (await queue.CreateIfNotExistsAsync()).Status);
        Assert.Equal(204, (await queue.CreateIfNotExistsAsync()).Status);
        Assert.Equal(204, (await queue.DeleteAsync()).Status);
        Assert.Equal(404, (await queue.DeleteAsync()).Status);
    }

    [Fact]
    public async Task Send_receive_and_delete_round_trip_unicode_text()
    {
        var queue = await NewQueueAsync();
        const string text = "order 42 ✓ <&> \"quoted\" +/=";

        var receipt = await queue.SendMessageAsync(text);
        var message = Assert.Single(await queue.ReceiveMessagesAsync(visibilityTimeout: TimeSpan.FromSeconds(30)));
        var deleted = await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        Assert.Equal(receipt.MessageId, message.MessageId);
        Assert.Equal(text, message.MessageText);
        Assert.Equal(1, message.DequeueCount);
        Assert.True(message.ExpiresOn > DateTimeOffset.UtcNow.AddDays(6));
        Assert.Equal(204, deleted.Status);
        Assert.Empty(await queue.PeekMessagesAsync(32));
    }

    [Fact]
    public async Task Messages_are_base64_of_utf8_on_the_wire()
    {
        var queue = await NewQueueAsync();
        var recorder = new BodyRecorder();
        var options = new StorageClientOptions();
        options.AddPolicy(recorder, HttpPipelinePosition.PerCall);
        var recorded = new QueueServiceClient(azurite.Account, options).GetQueueClient(queue.Name);

        await recorded.SendMessageAsync("héllo");

        Assert.Contains($"<MessageText>{Convert.ToBase64String("héllo"u8.ToArray())}</MessageText>", recorder.LastBody);
    }

    [Fact]
    public async Task Never_expiring_and_short_lived_ttls_are_accepted()
    {
        var queue = await NewQueueAsync();

        var forever = await queue.SendMessageAsync("forever", timeToLive: TimeSpan.MaxValue);
        var brief = await queue.SendMessageAsync("brief", timeToLive: TimeSpan.FromMinutes(5));

        Assert.True(forever.ExpirationTime.Year >= 9999);
        Assert.InRange(brief.ExpirationTime - brief.InsertionTime, TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Delayed_message_stays_invisible_until_its_delay()
    {
        var queue = await NewQueueAsync();

        var receipt = await queue.SendMessageAsync("later", visibilityTimeout: TimeSpan.FromSeconds(1));
        var immediately = await queue.ReceiveMessagesAsync();
        var eventually = await PollAsync(queue, TimeSpan.FromSeconds(10));

        Assert.Empty(immediately);
        Assert.Equal(receipt.MessageId, eventually.MessageId);
        Assert.True(DateTimeOffset.UtcNow >= receipt.TimeNextVisible.AddMilliseconds(-500));
    }

    [Fact]
    public async Task Redelivered_message_counts_dequeues_and_old_receipt_goes_stale()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("retry me");

        var first = Assert.Single(await queue.ReceiveMessagesAsync(visibilityTimeout: TimeSpan.FromSeconds(1)));
        var second = await PollAsync(queue, TimeSpan.FromSeconds(10));
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => queue.DeleteMessageAsync(first.MessageId, first.PopReceipt));

        Assert.Equal(1, first.DequeueCount);
        Assert.Equal(2, second.DequeueCount);
        Assert.Equal(400, ex.Status);
        Assert.Equal("PopReceiptMismatch", ex.ErrorCode);
        Assert.Equal(204, (await queue.DeleteMessageAsync(second.MessageId, second.PopReceipt)).Status);
    }

    [Fact]
    public async Task Update_extends_visibility_replaces_text_and_issues_a_new_receipt()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("v1");
        var received = Assert.Single(await queue.ReceiveMessagesAsync(visibilityTimeout: TimeSpan.FromSeconds(1)));

        var update = await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, TimeSpan.FromSeconds(30), "v2");
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var whileExtended = await queue.ReceiveMessagesAsync();
        var stale = await Assert.ThrowsAsync<RequestFailedException>(() => queue.DeleteMessageAsync(received.MessageId, received.PopReceipt));
        await queue.UpdateMessageAsync(received.MessageId, update.PopReceipt, TimeSpan.Zero);
        var visibleAgain = Assert.Single(await queue.ReceiveMessagesAsync());

        Assert.NotEqual(received.PopReceipt, update.PopReceipt);
        Assert.True(update.NextVisibleOn > DateTimeOffset.UtcNow.AddSeconds(20));
        Assert.Empty(whileExtended);
        Assert.Equal(400, stale.Status);
        Assert.Equal("v2", visibleAgain.MessageText);
    }

    [Fact]
    public async Task Pop_receipts_with_plus_slash_and_equals_are_escaped_and_signed()
    {
        // Azurite's receipts are base64 of ASCII and never contain '+' or '/', Azure's can; forge one.
        var queue = await NewQueueAsync();
        var recorder = new BodyRecorder();
        var options = new StorageClientOptions();
        options.AddPolicy(recorder, HttpPipelinePosition.PerCall);
        var recorded = new QueueServiceClient(azurite.Account, options).GetQueueClient(queue.Name);
        await recorded.SendMessageAsync("plus");
        var message = Assert.Single(await recorded.ReceiveMessagesAsync(visibilityTimeout: TimeSpan.FromSeconds(60)));
        const string forged = "AgAAAAMAAAAAAAAA+/x=";

        // 400 PopReceiptMismatch, not 403: the escaped receipt reached the service and the signature matched.
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => recorded.DeleteMessageAsync(message.MessageId, forged));
        var uri = recorder.LastUri;
        var deleted = await recorded.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        Assert.Equal(400, ex.Status);
        Assert.Equal("PopReceiptMismatch", ex.ErrorCode);
        Assert.Contains("popreceipt=AgAAAAMAAAAAAAAA%2B%2Fx%3D", uri);
        Assert.Equal(204, deleted.Status);
    }

    [Fact]
    public async Task Deleting_an_already_deleted_message_returns_404_without_throwing()
    {
        var queue = await NewQueueAsync();
        await queue.SendMessageAsync("once");
        var message = Assert.Single(await queue.ReceiveMessagesAsync());
        await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        var again = await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);

        Assert.Equal(404, again.Status);
    }

    [Fact]
    public async Task Missing_queue_surfaces_its_error_code()
    {
        var queue = _service.GetQueueClient(AzuriteFixture.UniqueName("q"));

        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => queue.SendMessageAsync("lost"));

        Assert.Equal(404, ex.Status);
        Assert.Equal("QueueNotFound", ex.ErrorCode);
    }

    [Fact]
    public async Task Approximate_count_reflects_sent_messages()
    {
        var queue = await NewQueueAsync();
        for (var i = 0; i < 3; i++)
        {
            await queue.SendMessageAsync($"m{i}");
        }

        Assert.Equal(3, await queue.GetApproximateMessagesCountAsync());
    }

    [Fact]
    public async Task Receive_returns_up_to_32_messages_at_once()
    {
        var queue = await NewQueueAsync();
        for (var i = 0; i < 40; i++)
        {
            await queue.SendMessageAsync($"m{i}");
        }

        var batch = await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30));

        Assert.Equal(32, batch.Count);
        Assert.Equal(32, batch.Select(m => m.MessageId).Distinct().Count());
    }

    [Fact]
    public async Task Invalid_arguments_are_rejected_client_side()
    {
        var queue = _service.GetQueueClient(AzuriteFixture.UniqueName("q"));
        var tooBig = new string('x', 49_153); // 65 540 characters once base64-encoded

        await Assert.ThrowsAsync<ArgumentException>(() => queue.SendMessageAsync(tooBig));
        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync(new string('x', 49_152)); // exactly 64 KiB encoded
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(0));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(33));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(1, TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromDays(8)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)));
        Assert.Throws<ArgumentException>(() => _service.GetQueueClient("Upper"));
        Assert.Throws<ArgumentException>(() => _service.GetQueueClient("double--dash"));
        Assert.Throws<ArgumentException>(() => _service.GetQueueClient("q"));
    }

    [Fact]
    public async Task Extra_policies_see_every_storage_call()
    {
        var counter = new CountingPolicy();
        var options = new StorageClientOptions();
        options.AddPolicy(counter, HttpPipelinePosition.PerCall);
        var queue = new QueueServiceClient(azurite.Account, options).GetQueueClient(AzuriteFixture.UniqueName("q"));

        await queue.CreateIfNotExistsAsync();
        await queue.SendMessageAsync("one");
        await queue.GetApproximateMessagesCountAsync();

        Assert.Equal(3, counter.Count);
    }

    private static async Task<QueueMessage> PollAsync(QueueClient queue, TimeSpan timeout)
    {
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < timeout)
        {
            var messages = await queue.ReceiveMessagesAsync(visibilityTimeout: TimeSpan.FromSeconds(30));
            if (messages.Count > 0)
            {
                return Assert.Single(messages);
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No message became visible within {timeout}.");
    }

    private sealed class CountingPolicy : HttpPipelineSynchronousPolicy
    {
        private int _count;

        public int Count => _count;

        public override void OnSendingRequest(HttpMessage message) => Interlocked.Increment(ref _count);
    }

    private sealed class BodyRecorder : HttpPipelineSynchronousPolicy
    {
        public string LastBody { get; private set; } = string.Empty;

        public string LastUri { get; private set; } = string.Empty;

        public override void OnSendingRequest(HttpMessage message)
        {
            LastUri = message.Request.Uri.ToString();
            if (message.Request.Content is { } content)
            {
                using var buffer = new MemoryStream();
                content.WriteTo(buffer, CancellationToken.None);
                LastBody = System.Text.Encoding.UTF8.GetString(buffer.ToArray());
            }
        }
    }
}
