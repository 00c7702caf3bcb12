using System.Net.Http.Json;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd.Security;

/// <summary>The bootstrap admin keeps its roles: a user service that finds them lost at start-up restores them.</summary>
public sealed class BootstrapAdminRepairTests(TestServers servers)
{
    [Fact]
    public async Task Start_up_restores_the_roles_of_a_bootstrap_admin_that_lost_them()
    {
        await using var system = new ProcessSystem(servers);
        await system.InitializeAsync();
        await system.UserServices[0].StopAsync();

        // What a bad script or a careless restore could leave behind.
        using (var store = new LiteDB.LiteDatabase($"Filename={system.UsersFile};Connection=shared"))
        {
            var users = store.GetCollection("users");
            var admin = users.FindOne(LiteDB.Query.EQ("UserName", MovieDbSystem.AdminUserName));
            admin["Roles"] = new LiteDB.BsonArray(new LiteDB.BsonValue[] { "user" });
            users.Update(admin);
        }

        var restarted = system.StartUserService();
        await restarted.WaitUntilHealthyAsync();

        var signedIn = await system.SignInAsAdminAsync();
        using var client = signedIn.CreateClient();
        var me = await client.GetFromJsonAsync<UserJson>("/api/users/me", TestContext.Current.CancellationToken);
        Assert.Equal(["admin", "user"], me!.Roles.Order());
        Assert.Contains("restored", restarted.Output, StringComparison.Ordinal);
    }
}
