global using MovieService.Extensions;
