using System.Text.Json;

namespace MovieDb.Tests.Unit;

/// <summary>Runtime settings a service is built with, which its measured figures depend on.</summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_user_service_is_built_to_run_with_workstation_garbage_collection()
    {
        // The runtimeconfig.json beside UserService.dll is what `dotnet UserService.dll` and the
        // published container read; server GC is the web SDK's default.
        var assembly = typeof(UserService.UserServiceApp).Assembly.Location;
        var runtimeConfig = Path.ChangeExtension(assembly, ".runtimeconfig.json");
        using var json = JsonDocument.Parse(File.ReadAllText(runtimeConfig));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.True(properties.TryGetProperty("System.GC.Server", out var server), $"{runtimeConfig} does not set System.GC.Server");
        Assert.False(server.GetBoolean());
    }
}
