using System.Text.Json.Serialization;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace MovieDb.Tests.Unit;

/// <summary>How message bodies are written, now that contracts live with the service that owns them.</summary>
public sealed class MessageSerializerTests
{
    /// <summary>
    /// Every message of the user service's contract, and the reply of every request: found by
    /// reflection, so that a new message forgotten in UserServiceJsonContext (the serializer would
    /// silently fall back to reflection) fails here.
    /// </summary>
    public static TheoryData<Type> Contracts()
    {
        var messages = typeof(UserDto).Assembly.GetTypes().Where(type => type.IsDefined(typeof(MessageAttribute), inherit: false)).ToList();
        var replies = messages
            .SelectMany(type => type.GetInterfaces())
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>))
            .Select(i => i.GetGenericArguments()[0])
            .Where(reply => reply != typeof(Empty))
            .Select(reply => typeof(Reply<>).MakeGenericType(reply));
        return [.. messages.Concat(replies).Distinct()];
    }

    [Fact]
    public void The_contract_has_the_messages_it_is_known_for()
    {
        var contracts = Contracts().Select(row => row.Data).ToList();
        Assert.Contains(typeof(RegisterUser), contracts);
        Assert.Contains(typeof(UserPasswordResetRequested), contracts);
        Assert.Contains(typeof(Reply<UserSession>), contracts);
    }

    [Theory]
    [MemberData(nameof(Contracts))]
    public void User_service_contracts_and_their_replies_are_written_with_the_metadata_generated_beside_them(Type contract)
    {
        var info = MessageSerializer.Options.GetTypeInfo(contract);

        Assert.IsAssignableFrom<JsonSerializerContext>(info.OriginatingResolver);
        Assert.Equal("UserServiceJsonContext", info.OriginatingResolver!.GetType().Name);
    }

    [Fact]
    public void The_secrets_of_the_user_service_contracts_are_the_fields_marked_secret_and_nothing_else()
    {
        var secrets = MessageSerializer.SecretFields([typeof(GetUser)]);

        Assert.Equal(["currentPassword", "newPassword", "password", "refreshToken", "resetToken", "token"], secrets.Order(StringComparer.Ordinal));
    }
}
