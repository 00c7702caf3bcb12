global using WebApp.Model;
global using WebApp.Services;
global using MovieDb.ServiceDefaults;
global using MovieService.Contracts;
