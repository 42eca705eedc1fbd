using System.Reflection;
using Microsoft.Extensions.Logging;
using SysextFunctions.Http;
using SysextFunctions.Registry;

namespace SysextFunctions.Tests.Unit;

/// <summary>
/// Every source-generated log message carries an explicit event id of its own, so that a log query can name an event
/// whatever its text says (docs/development.md: Conventions, for the ranges).
/// </summary>
public class LogEventIdTests
{
    public static TheoryData<string> Assemblies => [typeof(RegistryException).Assembly.GetName().Name!, typeof(SysextHandler).Assembly.GetName().Name!];

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void LoggerMessages_EveryOne_ExplicitAndUniqueEventId(string assembly)
    {
        var messages = Assembly.Load(assembly).GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.FullName}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();

        Assert.NotEmpty(messages);
        Assert.All(messages, m => Assert.True(m.Attribute!.EventId > 0, $"{m.Method} has no explicit EventId"));
        var repeated = messages.GroupBy(m => m.Attribute!.EventId).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}");
        Assert.Empty(repeated);
    }
}
