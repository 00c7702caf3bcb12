using MovieDb.Tests.Infrastructure;
using UserService;
using UserService.Settings;

namespace MovieDb.Tests.Integration.Users;

/// <summary>Start-up rules of the account settings, and the wait between activation links.</summary>
public sealed class AccountOptionsTests
{
    [Theory]
    [InlineData("Accounts:PendingAccountLifetime", "1.00:00:00", "Accounts:PendingAccountLifetime must be at least Accounts:ActivationTokenLifetime")]
    [InlineData("Accounts:ActivationEmailInterval", "00:00:00", "ActivationEmailInterval")]
    public void The_user_service_refuses_to_start_with_account_settings_that_contradict_each_other(string key, string value, string named)
    {
        var settings = UserServiceHost.Settings("amqp://guest:guest@127.0.0.1:1/", Path.Combine(Path.GetTempPath(), "moviedb-tests", Guid.NewGuid().ToString("N")));
        settings["Aspire:RabbitMQ:Client:MaxConnectRetryCount"] = "0";
        settings[key] = value;
        using var factory = new ServiceFactory<UserServiceApp>(settings);

        var error = Assert.ThrowsAny<Exception>(() => factory.Server);

        Assert.Contains(named, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Each_activation_link_waits_twice_as_long_as_the_one_before_and_never_more_than_a_day()
    {
        var options = new AccountOptions { ActivationEmailInterval = TimeSpan.FromMinutes(1) };

        Assert.Equal(TimeSpan.FromMinutes(1), options.ActivationEmailWait(0));
        Assert.Equal(TimeSpan.FromMinutes(1), options.ActivationEmailWait(1));
        Assert.Equal(TimeSpan.FromMinutes(2), options.ActivationEmailWait(2));
        Assert.Equal(TimeSpan.FromMinutes(4), options.ActivationEmailWait(3));
        Assert.Equal(TimeSpan.FromMinutes(512), options.ActivationEmailWait(10));
        Assert.Equal(TimeSpan.FromMinutes(1024), options.ActivationEmailWait(11));
        Assert.Equal(TimeSpan.FromDays(1), options.ActivationEmailWait(12));
        Assert.Equal(TimeSpan.FromDays(1), options.ActivationEmailWait(int.MaxValue));
    }
}
