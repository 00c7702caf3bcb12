using System.Globalization;

namespace WebApp.Model;

// What the forms post. Plain strings: the gateway is the one that validates, and its messages are
// shown next to the fields; here only what cannot even be sent (a year that is not a number) is caught.

public sealed class SignInForm
{
    public string? UserName { get; set; }

    public string? Password { get; set; }
}

public sealed class SignUpForm
{
    public string? UserName { get; set; }

    public string? Email { get; set; }

    public string? Password { get; set; }

    /// <summary>Made when the form is shown: a resubmitted form never creates a second account (Idempotency-Key).</summary>
    public string? RequestId { get; set; }
}

public sealed class ResendActivationForm
{
    public string? UserNameOrEmail { get; set; }
}

public sealed class ForgotPasswordForm
{
    public string? UserNameOrEmail { get; set; }
}

public sealed class ResetPasswordForm
{
    public string? Token { get; set; }

    public string? NewPassword { get; set; }

    public string? ConfirmPassword { get; set; }
}

public sealed class ActivateForm
{
    public string? Token { get; set; }
}

public sealed class EmailForm
{
    public string? Email { get; set; }

    public string? CurrentPassword { get; set; }
}

public sealed class PasswordForm
{
    public string? CurrentPassword { get; set; }

    public string? NewPassword { get; set; }

    public string? ConfirmPassword { get; set; }
}

public sealed class RolesForm
{
    public bool Admin { get; set; }
}

public sealed class MovieForm
{
    public string? Title { get; set; }

    public string? ReleaseYear { get; set; }

    /// <summary>Comma-separated.</summary>
    public string? Genres { get; set; }

    public string? RuntimeMinutes { get; set; }

    public string? Synopsis { get; set; }

    /// <summary>The ETag of the version this form edits (If-Match).</summary>
    public string? Version { get; set; }

    public static MovieForm From(MovieDto movie, string? etag) => new()
    {
        Title = movie.Title,
        ReleaseYear = movie.ReleaseYear.ToString(CultureInfo.InvariantCulture),
        Genres = string.Join(", ", movie.Genres),
        RuntimeMinutes = movie.RuntimeMinutes?.ToString(CultureInfo.InvariantCulture),
        Synopsis = movie.Synopsis,
        Version = etag,
    };

    /// <summary>The API body, or the fields that are not even numbers (keyed like the API's errors).</summary>
    public MovieInput ToInput(out Dictionary<string, string[]> errors)
    {
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var year = ParseNumber(ReleaseYear, "releaseYear", "Enter the release year as a number, e.g. 1979.", errors);
        var runtime = ParseNumber(RuntimeMinutes, "runtimeMinutes", "Enter the runtime in minutes as a number, e.g. 162.", errors);
        var genres = (Genres ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return new MovieInput(Title?.Trim() ?? string.Empty, year, genres, runtime, string.IsNullOrWhiteSpace(Synopsis) ? null : Synopsis.Trim());
    }

    private static int? ParseNumber(string? text, string field, string message, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        errors[field] = [message];
        return null;
    }
}

/// <summary>A confirmation that carries nothing but the antiforgery token.</summary>
public sealed class ConfirmForm
{
    public bool Confirmed { get; set; } = true;
}
