using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using UserService.Contracts;
using UserService.Features.Accounts;
using UserService.Features.Activation;
using UserService.Features.SignIn;
using UserService.Infrastructure;
using UserService.Model;
using UserService.Settings;

namespace UserService.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRabbitMQClient("messaging");
        builder.AddEventPublisher();
        // Only requests the gateway signed are carried out, and the replies are signed (MovieDb.Messaging's MessageSignatures).
        SigningKeys.Read(builder, "Messaging:SigningKey", "the requests the gateway sends this service (unsigned or changed ones are dead-lettered) and its replies (the gateway must hold the same key)", generateInDevelopment: false);
        SigningKeys.Read(builder, "Messaging:EventSigningKey", "the events this service publishes (the movie and notification services must hold the same key)", generateInDevelopment: false);
        // Every request is handled by the feature class that implements IRequestHandler for it (Features/).
        builder.AddRequestHandlers(UserServiceQueues.Requests).AddHandlersFrom(typeof(Extensions).Assembly);

        builder.AddUserStore("userdb");
        builder.AddAdminOptions();

        builder.Services.AddOptions<RefreshTokenOptions>().BindConfiguration(RefreshTokenOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<AccountOptions>().BindConfiguration(AccountOptions.SectionName).ValidateDataAnnotations()
            .Validate(o => o.PendingAccountLifetime >= o.ActivationTokenLifetime, "Accounts:PendingAccountLifetime must be at least Accounts:ActivationTokenLifetime: a link must not outlive its account.")
            .ValidateOnStart();
        builder.Services.Configure<PasswordHasherOptions>(builder.Configuration.GetSection("PasswordHasher"));
        builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        builder.Services.AddSingleton<Passwords>();
        builder.Services.AddSingleton(TimeProvider.System);
        // What the features share (Features/Accounts), activation links (registration, activation and account changes issue them), sessions.
        builder.Services.AddScoped<AccountAccess>();
        builder.Services.AddScoped<CommandInbox>();
        builder.Services.AddScoped<LinkMailer>();
        builder.Services.AddScoped<ActivationLinks>();
        builder.Services.AddScoped<Sessions>();

        builder.AddStartupTask<UserStoreInitializer>("userdb-initialized", maxRetryDelay: TimeSpan.FromSeconds(30));
        builder.Services.AddHostedService<StorePurge>();
    }

    /// <summary>
    /// Chooses the user store by the shape of <c>ConnectionStrings:{name}</c>: <c>mongodb://</c> or
    /// <c>mongodb+srv://</c> for MongoDB, <c>Filename=…</c> for the embedded LiteDB file.
    /// </summary>
    private static void AddUserStore(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetRequiredConnectionString(connectionName);
        if (connectionString.StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase)
            || connectionString.StartsWith("mongodb+srv://", StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrEmpty(MongoDB.Driver.MongoUrl.Create(connectionString).DatabaseName))
            {
                throw new InvalidOperationException($"'ConnectionStrings:{connectionName}' must name the database, e.g. mongodb://host:27017/{connectionName}.");
            }

            builder.AddMongoDBClient(connectionName);
            builder.Services.AddSingleton<IUserStore, MongoUserStore>();
        }
        else if (connectionString.Contains("Filename=", StringComparison.OrdinalIgnoreCase))
        {
            builder.Services.AddSingleton<IUserStore>(_ => new LiteDbUserStore(connectionString));

            // MongoDB has the client's "MongoDB.Driver" check; the embedded file gets its own.
            builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
                connectionName,
                sp => new LiteDbUserStoreHealthCheck((LiteDbUserStore)sp.GetRequiredService<IUserStore>()),
                failureStatus: null,
                tags: null));
        }
        else
        {
            throw new InvalidOperationException(
                $"'ConnectionStrings:{connectionName}' must be a MongoDB URI (mongodb://…) or a LiteDB connection string (Filename=…).");
        }
    }

    /// <summary>
    /// The bootstrap admin. Outside Development a missing <c>Admin:Password</c> stops start-up; in
    /// Development a generated one is used and logged once.
    /// </summary>
    private static void AddAdminOptions(this IHostApplicationBuilder builder)
    {
        var password = DevelopmentSecrets.Read(
            builder,
            $"{AdminOptions.SectionName}:Password",
            "It is the password of the bootstrap admin account",
            " (the AppHost passes its 'admin-password' parameter)",
            () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)),
            generated => $"Admin:Password is not set (Development): the bootstrap admin, if it is created now, gets the generated password {generated}");
        if (UserRules.CheckPassword(password).FirstOrDefault() is { } problem)
        {
            throw new InvalidOperationException($"Admin:Password is not acceptable: {problem}");
        }

        builder.Services.AddOptions<AdminOptions>()
            .BindConfiguration(AdminOptions.SectionName)
            .Configure(options => options.Password = password)
            .ValidateDataAnnotations()
            .ValidateOnStart();
    }
}
