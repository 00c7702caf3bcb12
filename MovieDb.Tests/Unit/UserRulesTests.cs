using System.Text;
using System.Text.Json.Nodes;
using MovieDb.Messaging.Contracts;
using UserService.Contracts;

namespace MovieDb.Tests.Unit;

public sealed class UserRulesTests
{
    [Theory]
    [InlineData("abc", true)]
    [InlineData("ab", false)]
    [InlineData("a.b_c-d", true)]
    [InlineData("Amelie", true)]
    [InlineData("Amélie", false)]
    [InlineData("\u0430dmin", false)]
    [InlineData("admin\u034F", false)]
    [InlineData("\uFF41\uFF44\uFF4D\uFF49\uFF4E", false)]
    [InlineData(".leading-dot", false)]
    [InlineData("with space", false)]
    [InlineData("semi;colon", false)]
    [InlineData("carol\n", false)]
    [InlineData("carol\r\n", false)]
    [InlineData("0123456789012345678901234567890a", true)]
    [InlineData("0123456789012345678901234567890ab", false)]
    public void User_names_are_3_to_32_ascii_letters_digits_dots_underscores_or_dashes(string name, bool valid) =>
        Assert.Equal(valid, !UserRules.CheckUserName(name).Any());

    [Theory]
    [InlineData("a@example.com", true)]
    [InlineData("Display Name <a@example.com>", false)]
    [InlineData("no-at-sign", false)]
    [InlineData("a@localhost", false)]
    [InlineData("a@example.com\n", false)]
    [InlineData("a\u2028b@example.com", false)]
    public void Emails_must_be_bare_addresses_with_a_domain(string email, bool valid) =>
        Assert.Equal(valid, !UserRules.CheckEmail(email).Any());

    [Theory]
    [InlineData("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ", true)]
    [InlineData("0123456789abcdef", true)]
    [InlineData("0123456789abcde", false)]
    [InlineData("0123456789abcdef\n", false)]
    [InlineData("with-dash_and_underscore-0123456789", true)]
    [InlineData("has space 0123456789", false)]
    [InlineData("base64+not/url=0123456789", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Activation_tokens_are_16_to_128_base64url_characters(string? token, bool valid) =>
        Assert.Equal(valid, !UserRules.CheckActivationToken(token).Any());

    [Fact]
    public void Activation_tokens_longer_than_128_characters_are_refused() =>
        Assert.NotEmpty(UserRules.CheckActivationToken(new string('a', 129)));

    [Fact]
    public void Activation_command_tokens_are_masked_in_dead_letters_but_the_mailed_event_keeps_its_token()
    {
        var command = Encoding.UTF8.GetString(MessageSerializer.SerializeMasked(new ActivateAccount("secret-token-0123456789")));
        var registered = Encoding.UTF8.GetString(MessageSerializer.SerializeMasked(
            new UserRegistered("e", "u", "name", "a@example.com", "mailed-token-0123456789", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow)));

        Assert.DoesNotContain("secret-token", command, StringComparison.Ordinal);
        Assert.Contains("mailed-token-0123456789", registered, StringComparison.Ordinal);
    }

    [Fact]
    public void User_names_that_look_the_same_normalise_to_the_same_value()
    {
        var precomposed = "Am\u00e9lie";
        var decomposed = "Ame\u0301lie";

        Assert.Equal(UserRules.NormalizeUserName(precomposed), UserRules.NormalizeUserName(decomposed));
        Assert.Equal(UserRules.NormalizeUserName("ADMIN"), UserRules.NormalizeUserName("admin"));
    }

    [Theory]
    [InlineData("admin", "adm1n")]
    [InlineData("admin", "ADMlN")]
    [InlineData("admin", "adrnin")]
    [InlineData("walter", "vvalter")]
    [InlineData("root", "R00T")]
    [InlineData("david", "cIavid")]
    public void Look_alike_names_share_a_skeleton(string name, string lookAlike) =>
        Assert.Equal(UserRules.Skeleton(name), UserRules.Skeleton(lookAlike));

    [Theory]
    [InlineData("alice", "alicia")]
    [InlineData("john.doe", "john_doe")]
    public void Different_names_keep_different_skeletons(string name, string other) =>
        Assert.NotEqual(UserRules.Skeleton(name), UserRules.Skeleton(other));

    [Theory]
    [InlineData("Victim@Example.test", "VICTIM@EXAMPLE.TEST")]
    [InlineData(" victim+news@example.test", "VICTIM@EXAMPLE.TEST")]
    [InlineData("victim+1+2@example.test", "VICTIM@EXAMPLE.TEST")]
    [InlineData("+victim@example.test", "+VICTIM@EXAMPLE.TEST")]
    [InlineData("victim@plus+host.example", "VICTIM@PLUS+HOST.EXAMPLE")]
    public void Addresses_of_one_mailbox_normalise_alike_whatever_their_case_or_sub_address(string email, string normalized) =>
        Assert.Equal(normalized, UserRules.NormalizeEmail(email));

    [Fact]
    public void Redaction_masks_every_secret_field_at_any_depth_and_keeps_the_rest()
    {
        var body = Encoding.UTF8.GetBytes("""{"userName":"a","password":"p1","nested":{"newPassword":"p2","refreshToken":"t"},"email":"e"}""");

        var redacted = JsonNode.Parse(MessageSerializer.Redact(body, MessageSerializer.SecretFields([typeof(RegisterUser)])))!;

        Assert.Equal("***", (string?)redacted["password"]);
        Assert.Equal("***", (string?)redacted["nested"]!["newPassword"]);
        Assert.Equal("***", (string?)redacted["nested"]!["refreshToken"]);
        Assert.Equal("a", (string?)redacted["userName"]);
        Assert.Equal("e", (string?)redacted["email"]);
    }

    [Fact]
    public void Replies_travel_with_camel_case_statuses()
    {
        var json = Encoding.UTF8.GetString(MessageSerializer.Serialize(Reply<Empty>.Fail(ReplyStatus.NotFound, "gone")));

        Assert.Equal("""{"status":"notFound","error":{"title":"gone"}}""", json);
    }
}
