using System.Globalization;
using System.Text;

namespace SysextFunctions.Registry;

/// <summary>
/// Text from outside (a tag, a repository name, a registry's reason, a challenge's scope) made safe to write on one
/// line: control characters, and the C1 and line/paragraph separators some terminals and log viewers act on, are
/// written as escapes. Applied to the value itself rather than left to the console formatter: the <c>simple</c> and
/// <c>systemd</c> formatters write values raw, so a tag with a newline could forge a log line and an ANSI escape
/// could rewrite the terminal. The JSON formatter escapes on its own; this makes every formatter safe.
/// </summary>
public static class LogText
{
    public static string Escape(string? value)
    {
        if (value is null)
        {
            return "";
        }

        if (!value.Any(NeedsEscape))
        {
            return value;
        }

        var text = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            _ = c switch
            {
                '\n' => text.Append("\\n"),
                '\r' => text.Append("\\r"),
                '\t' => text.Append("\\t"),
                '\\' => text.Append("\\\\"),
                _ when NeedsEscape(c) => text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)),
                _ => text.Append(c),
            };
        }

        return text.ToString();
    }

    // A backslash is escaped only where something else is, so that ordinary values stay as they are.
    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085';
}
