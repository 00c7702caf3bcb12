global using MovieService.Extensions;
global using MovieDb.ServiceDefaults;
