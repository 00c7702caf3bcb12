namespace UserService.Infrastructure;

/// <summary>Runs an asynchronous initialisation once; if it fails, the next caller runs it again.</summary>
internal sealed class Initialization(Func<Task> initialize)
{
    private readonly Lock _gate = new();
    private Task? _task;

    public Task EnsureAsync()
    {
        lock (_gate)
        {
            if (_task is null || _task.IsFaulted || _task.IsCanceled)
            {
                _task = initialize();
            }

            return _task;
        }
    }
}
