global using UserService.Extensions;
