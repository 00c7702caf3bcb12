using System.Reflection;
using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using MovieDb.ServiceDefaults;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Unit;

/// <summary>
/// The cache of validated tokens the gateway and the movie service put in front of JWT validation:
/// it may save work, never change a verdict.
/// </summary>
public sealed class CachingJsonWebTokenHandlerTests
{
    private static readonly SymmetricSecurityKey Key = new(Encoding.UTF8.GetBytes("a-test-signing-key-of-at-least-32-bytes!"));
    private static readonly SymmetricSecurityKey OtherKey = new(Encoding.UTF8.GetBytes("another-signing-key-of-at-least-32-bytes"));

    private static TokenValidationParameters Parameters(SecurityKey key) => new()
    {
        ValidIssuer = "moviedb",
        ValidAudience = "moviedb-api",
        IssuerSigningKey = key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        RequireExpirationTime = true,
        ClockSkew = TimeSpan.Zero,
        NameClaimType = "unique_name",
        RoleClaimType = "role",
    };

    private static string Token(string subject, TimeSpan lifetime, SecurityKey? key = null)
    {
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "moviedb",
            Audience = "moviedb-api",
            IssuedAt = now,
            NotBefore = now,
            Expires = now + lifetime,
            SigningCredentials = new SigningCredentials(key ?? Key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["unique_name"] = subject, ["role"] = new[] { "admin" } },
        });
    }

    /// <summary>
    /// Members of <see cref="TokenValidationParameters"/> whose change may leave a remembered token
    /// valid, and why that is safe. Anything else must make the cache validate again: a member added
    /// by a new IdentityModel that is in neither group fails this test, instead of being silently ignored.
    /// </summary>
    private static readonly Dictionary<string, string> NotDecidingValidity = new(StringComparer.Ordinal)
    {
        ["ClockSkew"] = "an entry is used only until the token's own exp, without any skew, and it was valid (nbf included) when remembered: a skew can only widen what a full validation accepts",
        ["PropertyBag"] = "free-form data for custom validators; a validator that reads it must be replaced (a new delegate: a new key) when its data changes",
        ["IsClone"] = "set by Clone(), which JWT bearer authentication calls for every request",
        ["DebugId"] = "a label for logs",
        ["LogTokenId"] = "logging only",
        ["LogValidationExceptions"] = "logging only",
        ["SaveSigninToken"] = "keeps the raw token on the identity (BootstrapContext); MovieDb reads no BootstrapContext, and the verdict does not depend on it",
        ["IncludeTokenOnFailedValidation"] = "only changes failed results, which are never remembered",
        ["RefreshBeforeValidation"] = "when to refresh the ConfigurationManager, which is keyed itself",
        ["CryptoProviderFactory"] = "how signatures are computed, not which are valid",
    };

    [Fact]
    public async Task Every_member_of_the_validation_parameters_either_keys_the_cache_or_is_listed_as_not_deciding_validity()
    {
        var token = Token("alice", TimeSpan.FromMinutes(5));
        var ignored = new List<string>();
        var cannotTell = new List<string>();
        var neverRemembered = new List<string>();
        foreach (var member in typeof(TokenValidationParameters).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanRead && p.CanWrite && p.GetIndexParameters().Length == 0))
        {
            // A fresh cache for each member, holding the token as validated under the usual parameters.
            var handler = new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false };
            var parameters = Parameters(Key);
            var first = await handler.ValidateTokenAsync(token, parameters);
            Assert.True(first.IsValid);
            Assert.Same(first.SecurityToken, (await handler.ValidateTokenAsync(token, parameters.Clone())).SecurityToken);

            var changed = parameters.Clone();
            if (OtherValue(member.PropertyType, member.GetValue(changed)) is not { } other)
            {
                cannotTell.Add($"{member.Name} ({member.PropertyType.Name})");
                continue;
            }

            member.SetValue(changed, other);

            // The remembered result comes back as the very token object it validated; a fresh validation makes a new one.
            var probe = await handler.ValidateTokenAsync(token, changed);
            if (ReferenceEquals(probe.SecurityToken, first.SecurityToken))
            {
                ignored.Add(member.Name);
            }

            // Under the changed rules the token is remembered in its turn, and found again with the
            // copy of those rules the next request brings (JWT bearer clones them for each request).
            // (Not for delegates: Clone shares them, and the test's stand-ins return null, which makes
            // some validations produce nothing worth remembering.)
            if (!typeof(Delegate).IsAssignableFrom(member.PropertyType) && probe.IsValid && changed.ValidateLifetime && !changed.ValidateTokenReplay && changed.TokenReplayValidator is null
                && !ReferenceEquals((await handler.ValidateTokenAsync(token, changed.Clone())).SecurityToken, probe.SecurityToken))
            {
                neverRemembered.Add(member.Name);
            }
        }

        Assert.Empty(neverRemembered);

        Assert.Empty(cannotTell);
        // Named in the output, so that a failure says which members are on which side.
        TestContext.Current.TestOutputHelper?.WriteLine("Left valid by a change: " + string.Join(", ", ignored.Order(StringComparer.Ordinal)));
        Assert.Equal(string.Join(", ", NotDecidingValidity.Keys.Order(StringComparer.Ordinal)), string.Join(", ", ignored.Order(StringComparer.Ordinal)));
    }

    /// <summary>A value of <paramref name="type"/> other than <paramref name="current"/>, or null when the test cannot make one.</summary>
    private static object? OtherValue(Type type, object? current)
    {
        if (type == typeof(bool))
        {
            return !(bool)current!;
        }

        if (type == typeof(string))
        {
            return current + "-other";
        }

        if (type == typeof(TimeSpan))
        {
            return (TimeSpan)current! + TimeSpan.FromMinutes(1);
        }

        if (type == typeof(int))
        {
            return (int)current! + 1;
        }

        if (type.IsAssignableFrom(typeof(string[])) && type != typeof(object))
        {
            return new[] { "other" };
        }

        if (type.IsAssignableFrom(typeof(SymmetricSecurityKey)))
        {
            return OtherKey;
        }

        if (type.IsAssignableFrom(typeof(SecurityKey[])))
        {
            return new SecurityKey[] { OtherKey };
        }

        if (type.IsAssignableFrom(typeof(Dictionary<string, object>)))
        {
            return new Dictionary<string, object> { ["other"] = 1 };
        }

        if (type == typeof(TokenValidationParameters))
        {
            return new TokenValidationParameters { ValidIssuer = "other" };
        }

        if (type == typeof(CryptoProviderFactory))
        {
            return new CryptoProviderFactory();
        }

        if (type.IsAssignableFrom(typeof(OtherConfigurationManager)))
        {
            return new OtherConfigurationManager();
        }

        if (type.IsAssignableFrom(typeof(OtherReplayCache)))
        {
            return new OtherReplayCache();
        }

        if (typeof(Delegate).IsAssignableFrom(type))
        {
            // A delegate of that type that returns its type's default: any other validator or resolver.
            var invoke = type.GetMethod("Invoke")!;
            var arguments = invoke.GetParameters().Select(p => System.Linq.Expressions.Expression.Parameter(p.ParameterType, p.Name)).ToArray();
            return System.Linq.Expressions.Expression.Lambda(type, System.Linq.Expressions.Expression.Default(invoke.ReturnType), arguments).Compile();
        }

        return null;
    }

    private sealed class OtherConfigurationManager : BaseConfigurationManager
    {
        public override Task<BaseConfiguration> GetBaseConfigurationAsync(CancellationToken cancel) => Task.FromResult<BaseConfiguration>(null!);

        public override void RequestRefresh()
        {
        }
    }

    private sealed class OtherReplayCache : ITokenReplayCache
    {
        public bool TryAdd(string securityToken, DateTime expiresOn) => true;

        public bool TryFind(string securityToken) => false;
    }

    [Fact]
    public async Task A_token_validated_again_gives_the_same_claims_and_each_caller_its_own_copy()
    {
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false };
        var parameters = Parameters(Key);
        var token = Token("alice", TimeSpan.FromMinutes(5));

        var first = await handler.ValidateTokenAsync(token, parameters);
        Assert.True(first.IsValid);
        Assert.Equal(1, handler.Count);

        // What the gateway does after validation: the role claims become the account's current ones.
        foreach (var role in first.ClaimsIdentity.FindAll("role").ToList())
        {
            first.ClaimsIdentity.RemoveClaim(role);
        }

        var second = await handler.ValidateTokenAsync(token, parameters);
        Assert.True(second.IsValid);
        Assert.NotSame(first.ClaimsIdentity, second.ClaimsIdentity);
        Assert.Equal("alice", second.ClaimsIdentity.FindFirst("sub")?.Value);
        Assert.Equal("alice", second.ClaimsIdentity.Name);
        Assert.True(new ClaimsPrincipal(second.ClaimsIdentity).IsInRole("admin"));
        Assert.IsType<CaseSensitiveClaimsIdentity>(second.ClaimsIdentity);
        Assert.Null(second.ClaimsIdentity.FindFirst("SUB"));
        Assert.IsType<JsonWebToken>(second.SecurityToken);
    }

    [Fact]
    public async Task A_token_is_checked_once_although_each_request_brings_its_own_copy_of_the_parameters()
    {
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false };
        var signatureChecks = 0;
        var parameters = Parameters(Key);
        parameters.SignatureValidator = (token, _) =>
        {
            Interlocked.Increment(ref signatureChecks);
            return new JsonWebToken(token);
        };
        var token = Token("alice", TimeSpan.FromMinutes(5));

        // What JWT bearer authentication does on every request: validate with a clone of its parameters.
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await handler.ValidateTokenAsync(token, parameters.Clone())).IsValid);
        }

        Assert.Equal(1, signatureChecks);

        // Other rules (here another audience) are another cache key: checked again, and refused.
        var stricter = parameters.Clone();
        stricter.ValidAudience = "another-api";
        Assert.False((await handler.ValidateTokenAsync(token, stricter)).IsValid);
        Assert.Equal(2, signatureChecks);
    }

    [Fact]
    public async Task A_remembered_token_is_refused_once_it_has_expired()
    {
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false };
        var parameters = Parameters(Key);
        // JWT times are whole seconds (the expiry is rounded down): three seconds leave two at least.
        var token = Token("alice", TimeSpan.FromSeconds(3));
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);

        var expiry = new JsonWebToken(token).ValidTo;
        await Wait.UntilAsync(() => Task.FromResult(DateTime.UtcNow > expiry.AddSeconds(1)), "the token's expiry is past", interval: TimeSpan.FromMilliseconds(100));

        var again = await handler.ValidateTokenAsync(token, parameters);
        Assert.False(again.IsValid);
        Assert.IsType<SecurityTokenExpiredException>(again.Exception);
    }

    [Fact]
    public async Task A_token_with_a_changed_signature_or_payload_is_refused_even_when_the_original_is_remembered()
    {
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false };
        var parameters = Parameters(Key);
        var token = Token("alice", TimeSpan.FromMinutes(5));
        Assert.True((await handler.ValidateTokenAsync(token, parameters)).IsValid);

        var parts = token.Split('.');
        var otherSignature = parts[2][..^2] + (parts[2][^2] == 'A' ? "B" : "A") + parts[2][^1];
        var forgedPayload = Base64UrlEncoder.Encode("""{"sub":"mallory","unique_name":"mallory","role":["admin"],"iss":"moviedb","aud":"moviedb-api","exp":4102444800}""");

        Assert.False((await handler.ValidateTokenAsync($"{parts[0]}.{parts[1]}.{otherSignature}", parameters)).IsValid);
        Assert.False((await handler.ValidateTokenAsync($"{parts[0]}.{forgedPayload}.{parts[2]}", parameters)).IsValid);
        Assert.Equal(1, handler.Count);
    }

    [Fact]
    public async Task A_remembered_token_is_validated_again_under_new_validation_parameters()
    {
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System) { MapInboundClaims = false };
        var token = Token("alice", TimeSpan.FromMinutes(5));
        Assert.True((await handler.ValidateTokenAsync(token, Parameters(Key))).IsValid);

        // The same rules again (a fresh copy, as on every request): still valid.
        Assert.True((await handler.ValidateTokenAsync(token, Parameters(Key))).IsValid);

        // The signing key was replaced: the token signed with the old one no longer counts.
        var rotated = await handler.ValidateTokenAsync(token, Parameters(OtherKey));
        Assert.False(rotated.IsValid);
    }

    [Fact]
    public async Task Parallel_validations_while_the_cache_fills_and_empties_give_every_caller_the_right_verdict_and_identity()
    {
        // The race: many requests validate at once while a small cache is emptied and refilled under
        // them. A lost entry only costs a full validation; no caller may get another's claims or a
        // wrong verdict.
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System, capacity: 4) { MapInboundClaims = false };
        var parameters = Parameters(Key);
        var tokens = Enumerable.Range(0, 16).Select(i => (User: $"user{i}", Token: Token($"user{i}", TimeSpan.FromMinutes(5)))).ToArray();
        var forged = Token("mallory", TimeSpan.FromMinutes(5), OtherKey);

        await Parallel.ForAsync(0, 2_000, TestContext.Current.CancellationToken, async (i, _) =>
        {
            if (i % 10 == 0)
            {
                Assert.False((await handler.ValidateTokenAsync(forged, parameters.Clone())).IsValid);
                return;
            }

            var (user, token) = tokens[i % tokens.Length];
            var result = await handler.ValidateTokenAsync(token, parameters.Clone());
            Assert.True(result.IsValid);
            Assert.Equal(user, result.ClaimsIdentity.FindFirst("sub")?.Value);
        });

        // Bounded: at most the capacity plus what the racing writers added after their check.
        Assert.InRange(handler.Count, 0, 4 + Environment.ProcessorCount * 2);
    }

    [Fact]
    public async Task Invalid_tokens_are_not_remembered_and_the_cache_never_holds_more_than_its_capacity()
    {
        var handler = new CachingJsonWebTokenHandler(TimeProvider.System, capacity: 3) { MapInboundClaims = false };
        var parameters = Parameters(Key);

        for (var i = 0; i < 10; i++)
        {
            Assert.False((await handler.ValidateTokenAsync(Token($"user{i}", TimeSpan.FromMinutes(5), OtherKey), parameters)).IsValid);
        }

        Assert.Equal(0, handler.Count);

        for (var i = 0; i < 10; i++)
        {
            Assert.True((await handler.ValidateTokenAsync(Token($"user{i}", TimeSpan.FromMinutes(5)), parameters)).IsValid);
            Assert.InRange(handler.Count, 1, 3);
        }
    }
}
