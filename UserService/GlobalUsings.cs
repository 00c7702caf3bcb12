global using UserService.Extensions;
global using MovieDb.ServiceDefaults;
