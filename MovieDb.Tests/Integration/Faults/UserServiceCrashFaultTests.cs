using System.Diagnostics;
using System.Net;
using MovieDb.Tests.EndToEnd;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Integration.Faults;

/// <summary>
/// The user service killed (SIGKILL) in the middle of a burst of 200 registrations from 16
/// concurrent clients: no registration is lost or doubled, whatever answer its client got.
/// </summary>
public sealed class UserServiceCrashFaultTests(TestServers servers)
{
    private const int Registrations = 200;
    private const int Clients = 16;

    private sealed class System(TestServers servers, int instances) : ProcessSystem(servers)
    {
        protected override int UserServiceInstances => instances;

        protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Messaging__RequestTimeout"] = "00:00:02",
        };
    }

    [Fact]
    public async Task A_user_service_killed_mid_burst_and_restarted_loses_and_doubles_no_registration()
    {
        await using var system = new System(servers, instances: 1);
        await system.InitializeAsync();
        var burst = new RegistrationBurst(system, Registrations, Clients);
        var watch = Stopwatch.StartNew();

        var running = burst.RunAsync();
        await Wait.UntilAsync(() => burst.Answered >= 40, "40 registrations answered before the crash", TimeSpan.FromSeconds(60));
        system.UserServices[0].Kill();
        var killedAt = watch.Elapsed;

        // While no user service runs, registrations are queued and answered 202.
        await Wait.UntilAsync(() => burst.Count(HttpStatusCode.Accepted) >= Clients || burst.Answered == Registrations, "registrations answered 202 while the service is down", TimeSpan.FromSeconds(60));
        var restarted = system.StartUserService();
        await restarted.WaitUntilHealthyAsync();
        await running;

        await burst.AssertEveryRegistrationExistsExactlyOnceAsync(system.VirtualHost);
        FaultReport.Record(nameof(A_user_service_killed_mid_burst_and_restarted_loses_and_doubles_no_registration),
            $"{Registrations} registrations from {Clients} clients; killed after {killedAt.TotalSeconds:F1} s; {burst.Count(HttpStatusCode.Created)} answered 201, {burst.Count(HttpStatusCode.Accepted)} answered 202; all exist exactly once; dead-letter queue empty; total {watch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact]
    public async Task With_two_competing_instances_one_killed_mid_burst_no_registration_is_lost_or_doubled()
    {
        await using var system = new System(servers, instances: 2);
        await system.InitializeAsync();
        var burst = new RegistrationBurst(system, Registrations, Clients);
        var watch = Stopwatch.StartNew();

        var running = burst.RunAsync();
        await Wait.UntilAsync(() => burst.Answered >= 60, "60 registrations answered before the crash", TimeSpan.FromSeconds(60));
        system.UserServices[0].Kill();
        await running;

        await burst.AssertEveryRegistrationExistsExactlyOnceAsync(system.VirtualHost);
        Assert.False(system.UserServices[1].HasExited);
        FaultReport.Record(nameof(With_two_competing_instances_one_killed_mid_burst_no_registration_is_lost_or_doubled),
            $"{Registrations} registrations from {Clients} clients on 2 instances, one killed; {burst.Count(HttpStatusCode.Created)} answered 201, {burst.Count(HttpStatusCode.Accepted)} answered 202; all exist exactly once; dead-letter queue empty; total {watch.Elapsed.TotalSeconds:F1} s");
    }
}
