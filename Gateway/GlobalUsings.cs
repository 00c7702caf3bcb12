global using Gateway.Extensions;
global using MovieDb.ServiceDefaults;
