namespace NotificationService;

/// <summary>
/// Names this service's assembly for <c>WebApplicationFactory&lt;T&gt;</c> in the tests: every service
/// has a top-level <c>Program</c>, which one test project cannot tell apart.
/// </summary>
public sealed class NotificationServiceApp;
