using System.Reflection;
using MovieDb.Tests.Infrastructure;

namespace MovieDb.Tests.Unit;

/// <summary>
/// The fast loop: the tests in this folder need no server, so they run alone in seconds
/// (<c>scripts/test.sh --unit</c>). A test that needs MariaDB, RabbitMQ, Redis or an SMTP server asks
/// for <see cref="TestServers"/>, and belongs under Integration/ or EndToEnd/.
/// </summary>
public sealed class UnitTestRulesTests
{
    [Fact]
    public void No_test_class_in_the_unit_folder_asks_for_a_server()
    {
        var unit = typeof(UnitTestRulesTests).Assembly.GetTypes()
            .Where(type => type.Namespace is { } ns && (ns == typeof(UnitTestRulesTests).Namespace || ns.StartsWith(typeof(UnitTestRulesTests).Namespace + ".", StringComparison.Ordinal)))
            .Where(type => type.IsClass && !type.IsNested && !type.IsAbstract)
            .ToList();

        var offenders = unit.Where(type => NeedsServers(type, depth: 0)).Select(type => type.Name).ToList();

        Assert.True(unit.Count > 5, "the unit folder was not found by namespace");
        Assert.Empty(offenders);
    }

    /// <summary>Whether constructing <paramref name="type"/> (or one of its class fixtures) takes <see cref="TestServers"/>.</summary>
    private static bool NeedsServers(Type type, int depth)
    {
        if (type == typeof(TestServers))
        {
            return true;
        }

        if (depth > 3)
        {
            return false;
        }

        var parameters = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).SelectMany(c => c.GetParameters()).Select(p => p.ParameterType);
        var fixtures = type.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IClassFixture<>))
            .Select(i => i.GetGenericArguments()[0]);
        return parameters.Concat(fixtures).Any(dependency => dependency != type && NeedsServers(dependency, depth + 1));
    }
}
