using Azure;
using ThreePL.Functions.Infrastructure;

namespace ThreePL.Functions.Tests.Hosting;

public sealed class TransientFailureTests
{
    [Fact]
    public void Storage_outages_are_transient_and_bugs_are_not()
    {
        Assert.True(TransientFailure.Is(new RequestFailedException(503, "busy")));
        Assert.True(TransientFailure.Is(new RequestFailedException(0, "no response")));
        Assert.True(TransientFailure.Is(new HttpRequestException("refused")));
        Assert.True(TransientFailure.Is(new AggregateException(new RequestFailedException("refused", new HttpRequestException("refused")), new HttpRequestException("refused"))));
        Assert.False(TransientFailure.Is(new RequestFailedException(412, "stale")));
        Assert.False(TransientFailure.Is(new RequestFailedException(404, "missing")));
        Assert.False(TransientFailure.Is(new AggregateException(new HttpRequestException("refused"), new InvalidOperationException("bug"))));
        Assert.False(TransientFailure.Is(new InvalidOperationException("bug")));
        Assert.False(TransientFailure.Is(new AggregateException()));
    }
}
