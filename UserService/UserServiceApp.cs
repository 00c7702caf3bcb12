namespace UserService;

/// <summary>
/// Names this service's assembly for <c>WebApplicationFactory&lt;T&gt;</c> in the tests: the three
/// services each have a top-level <c>Program</c>, which one test project cannot tell apart.
/// </summary>
public sealed class UserServiceApp;
