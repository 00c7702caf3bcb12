using System.Text;

namespace MovieService.Model;

/// <summary>Validation of movie input (DESIGN.md): every problem is reported, by field.</summary>
public static class MovieRules
{
    /// <summary>The latest acceptable release year: next year plus five (announced films).</summary>
    public static int LastReleaseYear(TimeProvider time) => MovieLimits.LastReleaseYear(time);

    /// <summary>Field errors (camelCase names, as in the JSON); empty when the input is valid.</summary>
    public static Dictionary<string, string[]> Validate(MovieInput input, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(input);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);

        if (string.IsNullOrWhiteSpace(input.Title))
        {
            errors["title"] = ["The title is required."];
        }
        else if (!IsWellFormed(input.Title))
        {
            errors["title"] = ["The title contains invalid Unicode."];
        }
        else if (HasControlCharacters(input.Title, allowLineBreaks: false))
        {
            errors["title"] = ["The title must be one line of text, without control characters."];
        }
        else if (Length(input.Title) > MovieLimits.TitleMaxLength)
        {
            errors["title"] = [$"The title must be at most {MovieLimits.TitleMaxLength} characters."];
        }

        var lastYear = LastReleaseYear(time);
        if (input.ReleaseYear is null)
        {
            errors["releaseYear"] = ["The release year is required."];
        }
        else if (input.ReleaseYear < MovieLimits.FirstReleaseYear || input.ReleaseYear > lastYear)
        {
            errors["releaseYear"] = [$"The release year must be between {MovieLimits.FirstReleaseYear} and {lastYear}."];
        }

        if (input.Genres is { } genres && GenreProblems(genres) is { Count: > 0 } problems)
        {
            errors["genres"] = [.. problems];
        }

        if (input.RuntimeMinutes is { } runtime && (runtime < MovieLimits.RuntimeMin || runtime > MovieLimits.RuntimeMax))
        {
            errors["runtimeMinutes"] = [$"The runtime must be between {MovieLimits.RuntimeMin} and {MovieLimits.RuntimeMax} minutes."];
        }

        if (input.Synopsis is { } synopsis)
        {
            if (!IsWellFormed(synopsis))
            {
                errors["synopsis"] = ["The synopsis contains invalid Unicode."];
            }
            else if (HasControlCharacters(synopsis, allowLineBreaks: true))
            {
                errors["synopsis"] = ["The synopsis may break lines and hold tabs, but no other control characters."];
            }
            else if (Length(synopsis) > MovieLimits.SynopsisMaxLength)
            {
                errors["synopsis"] = [$"The synopsis must be at most {MovieLimits.SynopsisMaxLength} characters."];
            }
        }

        return errors;
    }

    private static List<string> GenreProblems(IReadOnlyList<string?> genres)
    {
        var problems = new List<string>();
        if (genres.Count > MovieLimits.MaxGenres)
        {
            problems.Add($"At most {MovieLimits.MaxGenres} genres.");
        }

        for (var i = 0; i < genres.Count; i++)
        {
            var genre = genres[i];
            if (string.IsNullOrWhiteSpace(genre))
            {
                problems.Add($"Genre {i + 1} is empty.");
            }
            else if (!IsWellFormed(genre) || HasControlCharacters(genre, allowLineBreaks: false) || Length(genre.Trim()) > MovieLimits.GenreMaxLength)
            {
                problems.Add($"Genre {i + 1} must be 1 to {MovieLimits.GenreMaxLength} characters of valid text.");
            }
        }

        return problems;
    }

    /// <summary>Genres trimmed, without case-insensitive duplicates, in the order given.</summary>
    public static IEnumerable<string> DistinctGenres(IReadOnlyList<string?>? genres) =>
        (genres ?? []).Where(g => !string.IsNullOrWhiteSpace(g)).Select(g => g!.Trim()).Distinct(StringComparer.OrdinalIgnoreCase);

    /// <summary>Length in Unicode code points, which is what the database's character columns count.</summary>
    public static int Length(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }

        return count;
    }

    /// <summary>
    /// True when <paramref name="value"/> holds a control character (C0, DEL, C1) or a line or paragraph
    /// separator — apart from tabs and line breaks where <paramref name="allowLineBreaks"/>. A title or a
    /// genre is one line; what a page, a log or a header shows of it must not be broken or hidden.
    /// </summary>
    public static bool HasControlCharacters(string value, bool allowLineBreaks)
    {
        foreach (var c in value)
        {
            if ((char.IsControl(c) || c is '\u2028' or '\u2029') && !(allowLineBreaks && c is '\n' or '\r' or '\t'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>False for strings with unpaired surrogates, which no database column can store faithfully.</summary>
    public static bool IsWellFormed(string value)
    {
        var span = value.AsSpan();
        while (!span.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(span, out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            span = span[consumed..];
        }

        return true;
    }
}
