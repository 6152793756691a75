using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ThreePL.Functions.Tests.Webhooks;

public sealed record ReceivedWebhook(int Number, string Path, string? Id, string? Timestamp, string? Signature, string Body, DateTimeOffset At);

/// <summary>
/// A real HTTP receiver: Kestrel on 127.0.0.1 and a free port, started and stopped by the test. Requests to
/// <c>/hook</c> are numbered from 1 and answered by the behaviour the test gives; every request, to any path,
/// is recorded.
/// </summary>
public sealed class TestReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private TestReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public Func<int, HttpContext, Task> Behaviour { get; set; } = (_, c) => { c.Response.StatusCode = 200; return Task.CompletedTask; };

    public Uri BaseUrl { get; private set; } = null!;

    public string HookUrl => new Uri(BaseUrl, "/hook").ToString();

    public IReadOnlyList<ReceivedWebhook> Hooks => Received.Where(r => r.Path == "/hook").OrderBy(r => r.Number).ToList();

    public static async Task<TestReceiver> StartAsync(Func<int, HttpContext, Task>? behaviour = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new TestReceiver(app);
        if (behaviour is not null)
        {
            receiver.Behaviour = behaviour;
        }
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var isHook = context.Request.Path == "/hook";
            var number = isHook ? Interlocked.Increment(ref receiver._count) : 0;
            receiver.Received.Enqueue(new ReceivedWebhook(number, context.Request.Path, context.Request.Headers["webhook-id"].ToString(),
                context.Request.Headers["webhook-timestamp"].ToString(), context.Request.Headers["webhook-signature"].ToString(), body, DateTimeOffset.UtcNow));
            if (isHook)
            {
                await receiver.Behaviour(number, context);
            }
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.BaseUrl = new Uri(address);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    public static Task Status(HttpContext context, int status, string? body = null)
    {
        context.Response.StatusCode = status;
        return body is null ? Task.CompletedTask : context.Response.WriteAsync(body);
    }
}
