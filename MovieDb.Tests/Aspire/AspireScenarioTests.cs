using MovieDb.Tests.EndToEnd;

namespace MovieDb.Tests.Aspire;

/// <summary>The shared scenarios against the system the AppHost starts (containers required).</summary>
public sealed class AspireScenarioTests(AspireSystem system) : IClassFixture<AspireSystem>
{
    [Fact]
    public Task The_user_journey_works_through_the_gateway() => Scenarios.UserJourneyAsync(system);

    [Fact]
    public Task Users_see_only_their_own_movies_and_an_admin_sees_all() => Scenarios.UsersSeeOnlyTheirOwnMoviesAsync(system);

    [Fact]
    public Task Spoofed_identity_headers_gain_nothing() => Scenarios.SpoofedIdentityHeadersGainNothingAsync(system);
}
