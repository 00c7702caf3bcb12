namespace MovieDb.Tests.Integration.Faults;

/// <summary>
/// Figures the fault suite measured (counts, recovery times), written to the test output and to
/// <c>TestResults/fault-figures.txt</c> so that docs/reliability.md can quote the last run.
/// </summary>
internal static class FaultReport
{
    private static readonly Lock Gate = new();

    public static void Record(string test, string figures)
    {
        var line = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z {test}: {figures}";
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        var directory = Path.Combine(Infrastructure.RepositoryPaths.Root, "TestResults");
        lock (Gate)
        {
            Directory.CreateDirectory(directory);
            File.AppendAllText(Path.Combine(directory, "fault-figures.txt"), line + Environment.NewLine);
        }
    }
}
