global using MovieService.Extensions;
global using MovieDb.ServiceDefaults;
global using MovieService.Contracts;
