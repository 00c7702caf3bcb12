global using NotificationService.Extensions;
global using MovieDb.ServiceDefaults;
