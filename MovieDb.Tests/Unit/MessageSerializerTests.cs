using System.Text.Json.Serialization;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace MovieDb.Tests.Unit;

/// <summary>How message bodies are written, now that contracts live with the service that owns them.</summary>
public sealed class MessageSerializerTests
{
    [Theory]
    [InlineData(typeof(RegisterUser))]
    [InlineData(typeof(UserDeleted))]
    [InlineData(typeof(Reply<UserDto>))]
    [InlineData(typeof(Reply<UserSession>))]
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
