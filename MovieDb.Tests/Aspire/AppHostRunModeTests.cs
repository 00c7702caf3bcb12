using MovieDb.Tests.EndToEnd;

namespace MovieDb.Tests.Aspire;

/// <summary>
/// The shared scenarios against the system the AppHost starts in run mode (containers and DCP
/// required; each test skips, saying why, where they are not).
/// </summary>
public sealed class AspireScenarioTests(AspireSystem system) : IClassFixture<AspireSystem>
{
    [Fact]
    public async Task The_user_journey_works_through_the_gateway()
    {
        await system.StartAsync();
        await Scenarios.UserJourneyAsync(system);
    }

    [Fact]
    public async Task Users_see_only_their_own_movies_and_an_admin_sees_all()
    {
        await system.StartAsync();
        await Scenarios.UsersSeeOnlyTheirOwnMoviesAsync(system);
    }

    [Fact]
    public async Task Spoofed_identity_headers_gain_nothing()
    {
        await system.StartAsync();
        await Scenarios.SpoofedIdentityHeadersGainNothingAsync(system);
    }
}
