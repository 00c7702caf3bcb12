using MovieService.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.MapDefaultEndpoints();
// Internal, like every route here; the gateway publishes it as part of the public document.
app.MapOpenApi().AllowAnonymous();
app.MapMoviesApi();

app.Run();
