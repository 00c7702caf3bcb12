// Kestrel + YARP: the gateway's movie route (the same path and transform) without authentication,
// rate limiting, the caller's identity token or any middleware. The client's Authorization header
// goes through as it came, as through nginx. Floor:ServiceDefaults=true adds what every MovieDb
// service starts with (AddServiceDefaults: OpenTelemetry, health checks, service discovery).
var builder = WebApplication.CreateBuilder(args);
if (builder.Configuration.GetValue<bool>("Floor:ServiceDefaults"))
{
    builder.AddServiceDefaults();
}

builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));

var app = builder.Build();
app.MapReverseProxy();
app.Run();
