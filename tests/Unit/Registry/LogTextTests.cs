using SysextFunctions.Registry;

namespace SysextFunctions.Tests.Unit.Registry;

/// <summary>Values from outside, as any log formatter (simple, systemd, JSON) gets them: on one line, nothing a terminal acts on.</summary>
public class LogTextTests
{
    [Theory]
    [InlineData("v1.27.8-x86-64", "v1.27.8-x86-64")]
    [InlineData("v1.0\n", "v1.0\\n")]
    [InlineData("v1\r\nfake: line", "v1\\r\\nfake: line")]
    [InlineData("\u001b[2J\u001b[31mred", "\\u001b[2J\\u001b[31mred")]
    [InlineData("a\tb", "a\\tb")]
    [InlineData("a\u2028b\u0085c", "a\\u2028b\\u0085c")]
    [InlineData("back\\slash", "back\\slash")]
    [InlineData("back\\slash\n", "back\\\\slash\\n")]
    [InlineData(null, "")]
    public void Escape_ControlCharacters_OneSafeLine(string? value, string expected)
    {
        var escaped = LogText.Escape(value);

        Assert.Equal(expected, escaped);
        Assert.DoesNotContain(escaped, char.IsControl);
    }
}
