using System.Collections.Concurrent;
using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MovieDb.ServiceDefaults;

/// <summary>
/// A <see cref="JsonWebTokenHandler"/> that remembers the tokens it found valid, so a client that
/// sends the same token again does not pay for parsing it and checking its signature again
/// (bench/RESULTS.md). Only what depends on nothing but the token and the validation parameters is
/// remembered: what the account may do now is still decided per request, after validation (the
/// gateway's security-stamp check runs on every request, cached token or not).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>The key is the whole token, compared ordinally: a token with another signature, header or
/// payload is another key and is validated in full.</item>
/// <item>An entry is used only until the token's own <c>exp</c> (without the clock skew a full
/// validation would still allow), and only under the same rules that validated it — the same
/// signing keys (the same key objects), issuers, audiences, algorithms, requirements and validator
/// delegates (<see cref="ValidationRules"/>) — so new keys or rules are never bypassed. (JWT bearer
/// authentication clones its parameters for every request, so the rules are compared, not the
/// parameter objects.)</item>
/// <item>Every member of <see cref="TokenValidationParameters"/> that decides validity is part of the
/// rules (CachingJsonWebTokenHandlerTests enumerates them by reflection and fails on a new one); with
/// <c>ValidateTokenReplay</c> nothing is remembered.</item>
/// <item>Invalid tokens are never remembered, and tokens longer than <see cref="MaxTokenLength"/> are
/// not either: an attacker cannot fill the cache without valid tokens of this service.</item>
/// <item>At most <c>capacity</c> entries: when it is full, expired entries go, then all of them.</item>
/// <item>Every caller gets its own copy of the claims: handlers that change the identity (the
/// gateway replaces the role claims with the account's current roles) never change the cached one.</item>
/// </list>
/// </remarks>
public sealed class CachingJsonWebTokenHandler(TimeProvider time, int capacity = CachingJsonWebTokenHandler.DefaultCapacity) : JsonWebTokenHandler
{
    public const int DefaultCapacity = 10_000;

    /// <summary>MovieDb's tokens are under a kilobyte; longer ones are validated but not remembered.</summary>
    public const int MaxTokenLength = 4096;

    private readonly ConcurrentDictionary<string, Entry> _validated = new(StringComparer.Ordinal);

    /// <summary>How many validated tokens are remembered now.</summary>
    public int Count => _validated.Count;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        // A token that must be seen only once is never answered from memory: the replay check decides
        // (IdentityModel calls a custom replay validator even when ValidateTokenReplay is off).
        if (validationParameters.ValidateTokenReplay || validationParameters.TokenReplayValidator is not null)
        {
            return await base.ValidateTokenAsync(token, validationParameters);
        }

        var now = time.GetUtcNow();
        var rules = ValidationRules.Of(validationParameters);

        if (token is not null
            && _validated.TryGetValue(token, out var entry)
            && entry.Rules.Equals(rules)
            && now < entry.Until)
        {
            return new TokenValidationResult
            {
                IsValid = true,
                SecurityToken = entry.Token,
                ClaimsIdentity = new CaseSensitiveClaimsIdentity(entry.Identity),
                Issuer = entry.Issuer,
                TokenType = entry.TokenType,
            };
        }

        var result = await base.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid
            && token is { Length: <= MaxTokenLength }
            && validationParameters.ValidateLifetime
            && result.SecurityToken is JsonWebToken { ValidTo: var validTo } validated
            && validTo > now.UtcDateTime
            && result.ClaimsIdentity is { } identity)
        {
            Remember(token, new Entry(rules, validated, new CaseSensitiveClaimsIdentity(identity), result.Issuer, result.TokenType, new DateTimeOffset(DateTime.SpecifyKind(validTo, DateTimeKind.Utc))), now);
        }

        return result;
    }

    private void Remember(string token, Entry entry, DateTimeOffset now)
    {
        if (_validated.Count >= capacity)
        {
            foreach (var (key, value) in _validated)
            {
                if (value.Until <= now)
                {
                    _validated.TryRemove(key, out _);
                }
            }

            if (_validated.Count >= capacity)
            {
                _validated.Clear();
            }
        }

        _validated[token] = entry;
    }

    private sealed record Entry(
        ValidationRules Rules,
        JsonWebToken Token,
        ClaimsIdentity Identity,
        string? Issuer,
        string? TokenType,
        DateTimeOffset Until);

    /// <summary>What decides whether a token is valid, besides the token and the time.</summary>
    private sealed class ValidationRules : IEquatable<ValidationRules>
    {
        private readonly object?[] _values;

        private ValidationRules(object?[] values) => _values = values;

        public static ValidationRules Of(TokenValidationParameters p) => new(
        [
            p.IssuerSigningKey, .. p.IssuerSigningKeys ?? [], null,
            p.ValidIssuer, .. p.ValidIssuers ?? [], null,
            p.ValidAudience, .. p.ValidAudiences ?? [], null,
            .. p.ValidAlgorithms ?? [], null,
            .. p.ValidTypes ?? [], null,
            p.ValidateIssuer, p.ValidateAudience, p.ValidateLifetime, p.ValidateIssuerSigningKey, p.ValidateSignatureLast,
            p.RequireSignedTokens, p.RequireExpirationTime, p.RequireAudience, p.TryAllIssuerSigningKeys, p.ValidateWithLKG,
            p.NameClaimType, p.RoleClaimType, p.AuthenticationType, p.ConfigurationManager, p.TokenDecryptionKey,
            p.IssuerSigningKeyResolver, p.IssuerSigningKeyValidator, p.SignatureValidator, p.IssuerValidator, p.AudienceValidator,
            p.LifetimeValidator, p.AlgorithmValidator, p.TypeValidator, p.TokenReplayValidator, p.TokenReader,
            p.NameClaimTypeRetriever, p.RoleClaimTypeRetriever,
            .. p.TokenDecryptionKeys ?? [], null,
            p.TokenDecryptionKeyResolver, p.TryAllDecryptionKeys,
            p.ActorValidationParameters is { } actor ? Of(actor) : null, p.ValidateActor,
            p.IgnoreCaseWhenValidatingAudience, p.IgnoreTrailingSlashWhenValidatingAudience,
            p.IssuerSigningKeyResolverUsingConfiguration, p.IssuerSigningKeyValidatorUsingConfiguration,
            p.IssuerValidatorUsingConfiguration, p.SignatureValidatorUsingConfiguration,
            p.TransformBeforeSignatureValidation, p.TryReadJwtClaim,
            p.TokenReplayCache, p.ValidateTokenReplay,
        ]);

        // Keys, resolvers and validators by identity (a clone of the parameters shares them); strings by
        // value; the actor's parameters, which a clone copies, by their own rules.
        public bool Equals(ValidationRules? other)
        {
            if (other is null || _values.Length != other._values.Length)
            {
                return false;
            }

            for (var i = 0; i < _values.Length; i++)
            {
                var (mine, theirs) = (_values[i], other._values[i]);
                var same = mine is string or bool or Delegate or ValidationRules ? Equals(mine, theirs) : ReferenceEquals(mine, theirs);
                if (!same)
                {
                    return false;
                }
            }

            return true;
        }

        public override bool Equals(object? obj) => Equals(obj as ValidationRules);

        public override int GetHashCode() => _values.Length;
    }
}
