using Gateway.Apis;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseGatewayMiddleware();

app.MapDefaultEndpoints();
app.MapApiDocumentation();
app.MapAuthApi();
app.MapUsersApi();
app.MapCommandsApi();
app.MapMovieProxy();

app.Run();
