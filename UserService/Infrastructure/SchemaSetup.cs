namespace UserService.Infrastructure;

/// <summary>
/// A store's schema set-up (indexes, upgrades of documents stored by older releases): run by the
/// first caller, awaited by every member of the store; if it failed, the next caller runs it again.
/// </summary>
internal sealed class SchemaSetup(Func<Task> setUp)
{
    private readonly Lock _gate = new();
    private Task? _task;

    public Task EnsureAsync()
    {
        lock (_gate)
        {
            if (_task is null || _task.IsFaulted || _task.IsCanceled)
            {
                _task = setUp();
            }

            return _task;
        }
    }
}
