using System.Net.Mail;
using System.Text.RegularExpressions;

namespace UserService.Contracts;

/// <summary>
/// The rules for account fields, part of the user contract: the user service enforces them, and the
/// gateway checks them too, so that bad input gets a 400 at once even when the command would be queued.
/// </summary>
public static partial class UserRules
{
    /// <summary>Shortest user name.</summary>
    public const int UserNameMinLength = 3;

    /// <summary>Longest user name.</summary>
    public const int UserNameMaxLength = 32;

    /// <summary>Shortest password.</summary>
    public const int PasswordMinLength = 8;

    /// <summary>Longest password.</summary>
    public const int PasswordMaxLength = 128;

    /// <summary>Longest e-mail address (RFC 5321 path limit).</summary>
    public const int EmailMaxLength = 254;

    /// <summary>Shortest activation token accepted (issued ones are 43 characters: 256 bits, base64url).</summary>
    public const int ActivationTokenMinLength = 16;

    /// <summary>Longest activation token accepted; anything longer cannot be one and is not sent on.</summary>
    public const int ActivationTokenMaxLength = 128;

    /// <summary>The roles there are.</summary>
    public static IReadOnlyList<string> KnownRoles { get; } = ["user", "admin"];

    /// <summary>Problems with a user name, or none.</summary>
    public static IEnumerable<string> CheckUserName(string? userName)
    {
        if (string.IsNullOrEmpty(userName))
        {
            yield return "The user name is required.";
        }
        else if (userName.Length is < UserNameMinLength or > UserNameMaxLength || !UserNamePattern().IsMatch(userName))
        {
            yield return $"The user name must be {UserNameMinLength} to {UserNameMaxLength} characters of the letters A-Z and a-z, the digits 0-9, '.', '_' or '-', starting with a letter or digit.";
        }
    }

    /// <summary>Problems with an e-mail address, or none.</summary>
    public static IEnumerable<string> CheckEmail(string? email)
    {
        if (string.IsNullOrEmpty(email))
        {
            yield return "The e-mail address is required.";
        }
        else if (email.Length > EmailMaxLength
            || HasControlCharacters(email)
            || !MailAddress.TryCreate(email, out var address)
            || !string.Equals(address.Address, email, StringComparison.Ordinal)
            || !address.Host.Contains('.', StringComparison.Ordinal))
        {
            yield return "The e-mail address is not valid.";
        }
    }

    /// <summary>
    /// True when <paramref name="value"/> holds a control character (C0, DEL, C1) or a line or paragraph
    /// separator: nothing that names an account or an address may break a line or hide in a header.
    /// </summary>
    public static bool HasControlCharacters(string value) =>
        value.AsSpan().IndexOfAnyInRange('\u0000', '\u001f') >= 0
        || value.AsSpan().IndexOfAnyInRange('\u007f', '\u009f') >= 0
        || value.AsSpan().IndexOfAny('\u2028', '\u2029') >= 0;

    /// <summary>Problems with a password, or none.</summary>
    public static IEnumerable<string> CheckPassword(string? password)
    {
        if (string.IsNullOrEmpty(password))
        {
            yield return "The password is required.";
        }
        else if (password.Length is < PasswordMinLength or > PasswordMaxLength)
        {
            yield return $"The password must be {PasswordMinLength} to {PasswordMaxLength} characters long.";
        }
    }

    /// <summary>Problems with a set of roles, or none.</summary>
    public static IEnumerable<string> CheckRoles(IReadOnlyList<string>? roles)
    {
        if (roles is null || roles.Count == 0)
        {
            yield return "At least one role is required.";
        }
        else if (roles.FirstOrDefault(r => !KnownRoles.Contains(r, StringComparer.Ordinal)) is { } unknown)
        {
            yield return $"Unknown role '{unknown}'. Known roles: {string.Join(", ", KnownRoles)}.";
        }
    }

    /// <summary>Problems with an activation token's shape, or none (whether it is a live token only the user service knows).</summary>
    public static IEnumerable<string> CheckActivationToken(string? token) => CheckLinkToken(token, "activation token", "an activation token");

    /// <summary>Problems with a password-reset token's shape (the same as an activation token's), or none.</summary>
    public static IEnumerable<string> CheckResetToken(string? token) => CheckLinkToken(token, "password-reset token", "a password-reset token");

    private static IEnumerable<string> CheckLinkToken(string? token, string name, string aName)
    {
        if (string.IsNullOrEmpty(token))
        {
            yield return $"The {name} is required.";
        }
        else if (token.Length is < ActivationTokenMinLength or > ActivationTokenMaxLength || !ActivationTokenPattern().IsMatch(token))
        {
            yield return $"This is not {aName}: copy the whole link from the e-mail.";
        }
    }

    /// <summary>Field errors of a registration (camelCase field names, as in the JSON), empty when it is valid.</summary>
    public static Dictionary<string, string[]> Validate(RegisterUser registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Add(errors, "userName", CheckUserName(registration.UserName));
        Add(errors, "email", CheckEmail(registration.Email));
        Add(errors, "password", CheckPassword(registration.Password));
        return errors;
    }

    /// <summary>Adds <paramref name="problems"/> under <paramref name="field"/> when there are any.</summary>
    public static void Add(IDictionary<string, string[]> errors, string field, IEnumerable<string> problems)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var list = problems.ToArray();
        if (list.Length > 0)
        {
            errors[field] = list;
        }
    }

    /// <summary>The form user names are compared and indexed in.</summary>
    /// <remarks>Unicode compatibility normalisation first, so that visually identical spellings
    /// (precomposed "é" and "e" + combining accent, full-width letters) are the same name.</remarks>
    public static string NormalizeUserName(string userName) =>
        userName.Trim().Normalize(System.Text.NormalizationForm.FormKC).ToUpperInvariant();

    /// <summary>
    /// The form e-mail addresses are compared and indexed in: the mailbox they reach. Upper-cased, and
    /// without a sub-address (<c>name+tag@host</c> is <c>NAME@HOST</c>: most providers deliver it to
    /// <c>name@host</c>), so one mailbox holds at most one account and nobody can make MovieDb mail a
    /// mailbox again and again by registering it under new tags.
    /// </summary>
    public static string NormalizeEmail(string email)
    {
        ArgumentNullException.ThrowIfNull(email);
        var address = email.Trim();
        var at = address.LastIndexOf('@');
        var plus = at > 0 ? address.IndexOf('+', 0, at) : -1;
        return (plus > 0 ? string.Concat(address.AsSpan(0, plus), address.AsSpan(at)) : address).ToUpperInvariant();
    }

    /// <summary>
    /// What a user name looks like, for uniqueness: two names with the same skeleton display alike and
    /// cannot both exist. Compatibility-normalised and lower-cased, then the ASCII look-alikes of
    /// Unicode TR39's confusables folded together: 0 and o; 1, i and l; rn and m; vv and w; cl and d.
    /// (New names are ASCII only, so the non-ASCII confusables — Cyrillic "а", full-width letters,
    /// invisible marks — cannot be registered at all; names stored before this rule keep their own
    /// skeleton and keep working.)
    /// </summary>
    public static string Skeleton(string userName)
    {
        ArgumentNullException.ThrowIfNull(userName);
        var folded = userName.Trim().Normalize(System.Text.NormalizationForm.FormKC).ToLowerInvariant()
            .Replace('0', 'o')
            .Replace('1', 'l')
            .Replace('i', 'l');
        return folded
            .Replace("rn", "m", StringComparison.Ordinal)
            .Replace("vv", "w", StringComparison.Ordinal)
            .Replace("cl", "d", StringComparison.Ordinal);
    }

    // ASCII only: what ASP.NET Core Identity allows by default, without '@' and '+'. Names outside it
    // (other scripts, combining or invisible marks, full-width forms) could imitate existing ones.
    // \z, not $: in .NET '$' also matches before a final '\n', which "carol\n" would slip through.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserNamePattern();

    // base64url, what the user service issues.
    [GeneratedRegex(@"^[A-Za-z0-9_-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex ActivationTokenPattern();
}
