using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;
using MovieService.Infrastructure;

namespace MovieDb.Tests.Integration.Movies;

/// <summary>
/// The movie service's execution strategy: transient errors are retried, a read inside one of its
/// operations streams its rows (the operation is what is retried), and EF Core's guard against user
/// transactions holds.
/// </summary>
public sealed class MovieReadStrategyTests(MovieServiceFixture service) : IClassFixture<MovieServiceFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_query_inside_a_strategy_operation_streams_its_rows_and_one_outside_is_buffered()
    {
        await MovieHttp.CreateAsync(service.ClientFor($"reader-{Guid.NewGuid():N}"), MovieHttp.NewMovie("One"));
        await MovieHttp.CreateAsync(service.ClientFor($"reader-{Guid.NewGuid():N}"), MovieHttp.NewMovie("Two"));
        using var scope = service.Factory.Services.CreateScope();
        var context = scope.ServiceProvider.GetRequiredService<MovieDbContext>();
        var strategy = context.Database.CreateExecutionStrategy();

        Assert.True(strategy.RetriesOnFailure);

        // Buffered: the rows were all read before the first one is handed out, so the connection is
        // free for another command in the middle of the enumeration.
        Assert.True(await AnotherCommandFitsMidEnumerationAsync(context, Ct));

        // Streamed: the reader is still open on the connection while the rows are handed out.
        Assert.False(await strategy.ExecuteAsync(ct => AnotherCommandFitsMidEnumerationAsync(context, ct), Ct));
        Assert.False(await strategy.ExecuteAsync(ct => Task.FromResult(ExecutionStrategy.Current!.RetriesOnFailure), Ct));
    }

    [Fact]
    public async Task A_strategy_operation_inside_a_user_transaction_is_refused_as_before()
    {
        using var scope = service.Factory.Services.CreateScope();
        var context = scope.ServiceProvider.GetRequiredService<MovieDbContext>();
        await using var transaction = await context.Database.BeginTransactionAsync(Ct);

        // A retry could not repeat the work done earlier in the transaction: EF Core refuses.
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            context.Database.CreateExecutionStrategy().ExecuteAsync(ct => context.Movies.CountAsync(ct), Ct));
    }

    private static async Task<bool> AnotherCommandFitsMidEnumerationAsync(MovieDbContext context, CancellationToken cancellationToken)
    {
        await foreach (var _ in context.Movies.AsNoTracking().AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            try
            {
                await context.Movies.AsNoTracking().CountAsync(cancellationToken);
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }

        throw new InvalidOperationException("The test needs at least one movie.");
    }
}
