namespace ThreePL.Functions.ConnectPages;

public static class ConnectPagesApi
{
    public static IEndpointRouteBuilder MapConnectPages(this IEndpointRouteBuilder app)
    {
        app.MapGet("/connect/{token}", (string token, ConnectPage page, CancellationToken ct) => page.ShowAsync(token, ct))
            .ExcludeFromDescription();
        app.MapPost("/connect/{token}", async (string token, HttpRequest request, ConnectPage page, CancellationToken ct) =>
            {
                var form = request.HasFormContentType ? await request.ReadFormAsync(ct).ConfigureAwait(false) : FormCollection.Empty;
                return await page.DecideAsync(token, form, ct).ConfigureAwait(false);
            })
            .DisableAntiforgery()
            .ExcludeFromDescription();
        return app;
    }
}
