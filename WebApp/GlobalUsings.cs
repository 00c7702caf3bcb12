global using WebApp.Model;
global using WebApp.Services;
