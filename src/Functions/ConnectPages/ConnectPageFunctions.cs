using ThreePL.Functions.Http;

namespace ThreePL.Functions.ConnectPages;

/// <summary>The e-mailed link's page: public, the token in the path is the credential.</summary>
public sealed class ConnectPageFunctions(HttpApi api, ConnectPage page)
{
    [Function("ShowConnectPage")]
    public Task<IResult> ShowConnectPageAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "connect/{token}")] HttpRequest request, string token) =>
        api.RunPublicAsync(request, ct => page.ShowAsync(token, ct));

    [Function("DecideConnectPage")]
    public Task<IResult> DecideConnectPageAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "connect/{token}")] HttpRequest request, string token) =>
        api.RunPublicAsync(request, async ct =>
        {
            var form = request.HasFormContentType ? await request.ReadFormAsync(ct).ConfigureAwait(false) : FormCollection.Empty;
            return await page.DecideAsync(token, form, ct).ConfigureAwait(false);
        });
}
