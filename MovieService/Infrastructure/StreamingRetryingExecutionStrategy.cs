using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace MovieService.Infrastructure;

/// <summary>
/// Pomelo's retrying strategy (transient MySQL errors retried with back-off), with one difference:
/// a query run inside an operation of this strategy is streamed, not buffered.
/// </summary>
/// <remarks>
/// EF Core copies every row of a query into a buffer of boxed values first when the strategy may
/// retry, so that a failure half-way through the rows can be retried without the caller seeing half
/// a result. Inside an operation of the strategy (<see cref="ExecutionStrategy.Current"/> is this
/// strategy) that copy protects nothing: a failure leaves the operation and the whole operation —
/// query and materialisation — runs again. EF Core asks <see cref="RetriesOnFailure"/> of the
/// current strategy when it decides, so this strategy answers "no" while it runs its own operation
/// and "yes" everywhere else (which keeps EF's guard against user transactions that a retry could
/// not repeat). The buffer was a quarter of what a list request allocated (bench/RESULTS.md).
/// </remarks>
internal sealed class StreamingRetryingExecutionStrategy(ExecutionStrategyDependencies dependencies, int maxRetryCount, TimeSpan maxRetryDelay)
    : MySqlRetryingExecutionStrategy(dependencies, maxRetryCount, maxRetryDelay, errorNumbersToAdd: null)
{
    public override bool RetriesOnFailure => !ReferenceEquals(Current, this) && base.RetriesOnFailure;
}
