namespace Gateway.Auth;

/// <summary>
/// A valid token for an account this gateway instance knows nothing of, while the user service cannot
/// be asked (<see cref="SecurityVerdict.Unknown"/>): answered 503 with Retry-After, not 401.
/// </summary>
public sealed class RightsUnavailableException : Exception
{
    /// <summary>How long the client should wait: as long as the gateway waits before asking again about that account.</summary>
    public static readonly TimeSpan RetryAfter = UserSecurityCache.RetryUnanswered;

    public RightsUnavailableException()
        : base("Your session cannot be checked right now (the user service does not answer). Try again shortly.")
    {
    }

    public RightsUnavailableException(string message)
        : base(message)
    {
    }

    public RightsUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
