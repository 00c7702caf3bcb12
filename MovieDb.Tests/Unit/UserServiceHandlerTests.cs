using Microsoft.Extensions.DependencyInjection;
using MovieDb.Messaging.Contracts;
using MovieDb.Messaging.Server;
using UserService;
using UserService.Contracts;

namespace MovieDb.Tests.Unit;

/// <summary>
/// The user service registers its handlers by finding the feature classes that implement them
/// (<see cref="RequestHandlerRegistry.AddHandlersFrom"/>): these tests keep that from hiding a
/// request nobody handles, or one handled twice.
/// </summary>
public sealed class UserServiceHandlerTests
{
    [Fact]
    public void Every_request_of_the_user_service_contract_has_exactly_one_handler_and_every_handler_a_request_of_it()
    {
        var requests = typeof(UserDto).Assembly.GetTypes()
            .Where(type => type.IsDefined(typeof(MessageAttribute), inherit: false)
                && type.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>)))
            .Select(type => type.FullName!)
            .Order()
            .ToList();
        var handlers = RequestHandlerRegistry.HandlersIn(typeof(UserServiceApp).Assembly).ToList();

        Assert.Contains(nameof(RegisterUser), string.Join(' ', requests), StringComparison.Ordinal);
        Assert.Equal(requests, handlers.Select(h => h.Request.FullName!).Order());
        Assert.All(handlers, h => Assert.StartsWith("UserService.Features.", h.Handler.FullName, StringComparison.Ordinal));
    }

    [Fact]
    public void A_second_handler_of_one_request_stops_the_start_naming_both()
    {
        var registry = new RequestHandlerRegistry(new ServiceCollection(), UserServiceQueues.Requests)
            .Add<GetUser, UserDto, FirstHandler>();

        var error = Assert.Throws<InvalidOperationException>(() => registry.Add<GetUser, UserDto, SecondHandler>());

        Assert.Contains(nameof(FirstHandler), error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(SecondHandler), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Handlers_found_in_an_assembly_that_handle_one_request_twice_stop_the_start_with_the_reason_on_top()
    {
        var registry = new RequestHandlerRegistry(new ServiceCollection(), UserServiceQueues.Requests)
            .Add<GetUser, UserDto, FirstHandler>();

        // This test assembly holds FirstHandler and SecondHandler, both for users.get.
        var error = Assert.Throws<InvalidOperationException>(() => registry.AddHandlersFrom(typeof(UserServiceHandlerTests).Assembly));

        Assert.Contains("two handlers", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Handlers_found_in_an_assembly_are_registered_in_the_container_once_per_class()
    {
        var services = new ServiceCollection();
        new RequestHandlerRegistry(services, UserServiceQueues.Requests).AddHandlersFrom(typeof(UserServiceApp).Assembly);

        var registered = services.Where(s => s.ServiceType.FullName!.StartsWith("UserService.Features.", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            RequestHandlerRegistry.HandlersIn(typeof(UserServiceApp).Assembly).Select(h => h.Handler).Distinct().Count(),
            registered.Count);
        Assert.All(registered, s => Assert.Equal(ServiceLifetime.Scoped, s.Lifetime));
    }

    private sealed class FirstHandler : IRequestHandler<GetUser, UserDto>
    {
        public Task<Reply<UserDto>> HandleAsync(GetUser request, RequestContext context, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }

    private sealed class SecondHandler : IRequestHandler<GetUser, UserDto>
    {
        public Task<Reply<UserDto>> HandleAsync(GetUser request, RequestContext context, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
