global using NotificationService.Extensions;
