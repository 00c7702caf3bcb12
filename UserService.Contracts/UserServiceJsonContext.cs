using System.Text.Json;
using System.Text.Json.Serialization;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

// MessageSerializer reads and writes this assembly's contracts with the generated metadata below.
[assembly: MessageContracts(typeof(UserServiceJsonContext))]

namespace UserService.Contracts;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RegisterUser))]
[JsonSerializable(typeof(GetRegistrationStatus))]
[JsonSerializable(typeof(GetCommandStatus))]
[JsonSerializable(typeof(GetSecurityState))]
[JsonSerializable(typeof(RevokeAllSessions))]
[JsonSerializable(typeof(AuthenticateUser))]
[JsonSerializable(typeof(GetUser))]
[JsonSerializable(typeof(ListUsers))]
[JsonSerializable(typeof(UpdateUser))]
[JsonSerializable(typeof(DeleteUser))]
[JsonSerializable(typeof(RefreshSession))]
[JsonSerializable(typeof(RevokeSession))]
[JsonSerializable(typeof(ActivateAccount))]
[JsonSerializable(typeof(UserEmailChangeRequested))]
[JsonSerializable(typeof(SendActivation))]
[JsonSerializable(typeof(RequestPasswordReset))]
[JsonSerializable(typeof(ResetPassword))]
[JsonSerializable(typeof(UserPasswordResetRequested))]
[JsonSerializable(typeof(UserRegistered))]
[JsonSerializable(typeof(UserActivationRequested))]
[JsonSerializable(typeof(UserDeleted))]
[JsonSerializable(typeof(UserSecurityChanged))]
[JsonSerializable(typeof(Reply<UserDto>))]
[JsonSerializable(typeof(Reply<CommandStatus>))]
[JsonSerializable(typeof(Reply<UserSession>))]
[JsonSerializable(typeof(Reply<UserPage>))]
[JsonSerializable(typeof(Reply<SecurityState>))]
internal sealed partial class UserServiceJsonContext : JsonSerializerContext;
