using WebApp.Apis;
using WebApp.Components;
using WebApp.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseWebAppMiddleware();

app.MapDefaultEndpoints();
app.MapStaticAssets();
app.MapAccountApi();
app.MapRazorComponents<App>()
    .AddInteractiveServerRenderMode();

app.Run();
