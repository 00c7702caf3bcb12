using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.EndToEnd;

/// <summary>The shared scenarios against the in-process launcher.</summary>
public sealed class InProcessScenarioTests(InProcessScenarioTests.System system) : IClassFixture<InProcessScenarioTests.System>
{
    public sealed class System(TestServers servers) : InProcessSystem(servers);

    [Fact]
    public Task The_user_journey_works_through_the_gateway() => Scenarios.UserJourneyAsync(system);

    [Fact]
    public Task Users_see_only_their_own_movies_and_an_admin_sees_all() => Scenarios.UsersSeeOnlyTheirOwnMoviesAsync(system);

    [Fact]
    public Task An_admin_deletes_a_user_and_their_movies_go() => Scenarios.AnAdminDeletesAUserAndTheirMoviesGoAsync(system);

    [Fact]
    public Task Spoofed_identity_headers_gain_nothing() => Scenarios.SpoofedIdentityHeadersGainNothingAsync(system);
}
